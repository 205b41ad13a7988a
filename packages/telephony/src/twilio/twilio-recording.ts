import { Readable } from "node:stream";
import type { ReadableStream } from "node:stream/web";
import { errorForAnswer, PermanentTelephonyError, RetryableTelephonyError } from "../errors.ts";
import type { RecordingStream } from "../port.ts";
import { readErrorBody, redirectToApiBase } from "./twilio-http.ts";

interface RecordingAccess {
  accountSid: string;
  authToken: string;
  apiBaseUrl: string;
  /** The whole download's deadline, body included. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * A recording's media as WAV, with the account's basic auth. The credentials go only to the API's
 * own origin: a recording URL is read from callbacks, and a forged one must not collect them.
 */
export async function openTwilioRecording(recordingUrl: string, access: RecordingAccess): Promise<RecordingStream> {
  const target = new URL(redirectToApiBase(recordingUrl, access.apiBaseUrl));
  if (target.origin !== new URL(access.apiBaseUrl).origin) {
    throw new PermanentTelephonyError("telephony_foreign_recording_url", `recording URL ${target.origin} is not the API's origin ${new URL(access.apiBaseUrl).origin}`);
  }
  // Without an extension Twilio picks the format; ask for WAV by name.
  if (!/\.[a-z0-9]+$/i.test(target.pathname)) target.pathname += ".wav";

  const deadline = AbortSignal.timeout(access.timeoutMs);
  const signal = access.signal ? AbortSignal.any([deadline, access.signal]) : deadline;
  let response: Response;
  try {
    response = await fetch(target, {
      headers: { authorization: `Basic ${Buffer.from(`${access.accountSid}:${access.authToken}`).toString("base64")}` },
      signal,
    });
  } catch (error) {
    if (deadline.aborted) throw new RetryableTelephonyError("telephony_timeout", `recording ${target.pathname} did not arrive within ${access.timeoutMs} ms`, { cause: error });
    if (access.signal?.aborted) throw error;
    throw new RetryableTelephonyError("telephony_unreachable", `recording ${target.pathname} unreachable: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok || !response.body) {
    const body = readErrorBody(await response.text().catch(() => ""));
    throw errorForAnswer({
      status: response.status,
      providerCode: body.code,
      message: body.message || `GET ${target.pathname} failed`,
      retryAfter: response.headers.get("retry-after") ?? undefined,
    });
  }
  const length = Number(response.headers.get("content-length"));
  return {
    contentType: response.headers.get("content-type") ?? "audio/x-wav",
    sizeBytes: Number.isSafeInteger(length) && length > 0 ? length : undefined,
    body: Readable.fromWeb(response.body as ReadableStream<Uint8Array>),
  };
}
