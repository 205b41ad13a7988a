import { isUuid } from "@callflow/contracts";
import { knownTwilioCallStatus } from "@callflow/telephony/call-status";

/** What a Twilio callback for a dial says: dialStatusChanged without the tenant, which the dial row gives. */
export interface DialCallback {
  dialId: string;
  status: string;
  attempt: number;
  providerCallId: string;
  durationSeconds?: number;
  recordingUrl?: string;
  occurredAt?: string;
}

/**
 * Twilio's CallStatus in the `dial_status` words: telephony's mapping (imported without the Twilio
 * SDK), except that a call Twilio has accepted (`queued`, `initiated`) is the dial's `placed`.
 */
const dialStatusFromTwilio = (status: string | undefined): string | undefined => {
  const mapped = knownTwilioCallStatus(status ?? "");
  return mapped === "queued" ? "placed" : mapped;
};

/** A recording status callback announces this status: the recording can be fetched (a later step). */
export const RECORDING_READY = "recording_ready";

const wholeSeconds = (value: string | undefined): number | undefined => {
  const seconds = Number(value);
  return value !== undefined && value !== "" && Number.isSafeInteger(seconds) && seconds >= 0 ? seconds : undefined;
};

/** Twilio's `Timestamp` is RFC 2822 (`Mon, 16 Aug 2010 03:45:01 +0000`); RFC 3339 in the event. */
const rfc3339 = (value: string | undefined): string | undefined => {
  const at = value ? new Date(value) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at.toISOString() : undefined;
};

/**
 * The dial status a signed Twilio callback reports, read from the marker in its URL's query
 * (`?dial=<id>&attempt=<n>`, telephony's `withMarker`) and its form. Undefined for a callback that
 * names no dial, or reports nothing the dialer acts on (a recording that failed, an unknown status):
 * it is still stored.
 */
export const dialCallbackOf = (url: string, params: Readonly<Record<string, string>>): DialCallback | undefined => {
  const query = new URL(url).searchParams;
  const dialId = query.get("dial");
  const attempt = Number(query.get("attempt"));
  if (!dialId || !isUuid(dialId) || !Number.isSafeInteger(attempt) || attempt < 0) return undefined;

  const status = params.RecordingStatus !== undefined
    ? (params.RecordingStatus === "completed" && params.RecordingUrl ? RECORDING_READY : undefined)
    : dialStatusFromTwilio(params.CallStatus);
  if (!status) return undefined;

  const durationSeconds = wholeSeconds(params.CallDuration);
  const occurredAt = rfc3339(params.Timestamp);
  return {
    dialId: dialId.toLowerCase(),
    status,
    attempt,
    providerCallId: params.CallSid ?? "",
    ...(durationSeconds === undefined ? {} : { durationSeconds }),
    ...(params.RecordingUrl ? { recordingUrl: params.RecordingUrl } : {}),
    ...(occurredAt ? { occurredAt } : {}),
  };
};
