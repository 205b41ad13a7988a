import { createReadStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import * as tus from "tus-js-client";

/** The few calls the CLI makes to a Callflow API, as any client would make them. */
export interface CallflowApi {
  uploadResumable(file: string, options: { onProgress(sent: number, total: number): void; signal: AbortSignal; resumeStore?: string }): Promise<string>;
  watch(callId: string, onEvent: (event: ProgressEvent) => void, signal: AbortSignal): Promise<void>;
  get<T>(path: string): Promise<{ status: number; body: T }>;
  /** A JSON request; an error answer is thrown as an ApiRequestError. */
  post<T>(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
}

export type ProgressEvent =
  | { event: "call"; data: { status: string; failedStage: string | null; errorCode: string | null; errorMessage: string | null } }
  | { event: "stage"; data: { stage: string; status: string; attempt: number; errorCode: string | null; errorMessage: string | null } }
  | { event: "chunks"; data: { byStatus: Record<string, number> } }
  | { event: "end"; data: { status: string } };

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

const REQUEST_TIMEOUT_MS = 30_000;

// The Node build exports a file-backed store of upload URLs (for resuming across runs) that the
// package's type declarations leave out.
const { FileUrlStorage } = tus as unknown as { FileUrlStorage: new (path: string) => tus.UrlStorage };

export function createApiClient(baseUrl: string, apiKey: string): CallflowApi {
  const auth = { authorization: `Bearer ${apiKey}` };
  return {
    async uploadResumable(file, options) {
      const size = (await stat(file)).size;
      if (size === 0) throw new Error(`${file} is empty`);
      if (options.resumeStore) await mkdir(dirname(options.resumeStore), { recursive: true });
      return new Promise<string>((resolve, reject) => {
        const upload = new tus.Upload(createReadStream(file), {
          endpoint: `${baseUrl}/v1/uploads`,
          uploadSize: size,
          // A stream is read once: tus-js-client needs a chunk size to resume from an offset.
          chunkSize: 8 * 1024 * 1024,
          retryDelays: [0, 1_000, 3_000, 5_000, 10_000],
          headers: auth,
          metadata: { filename: basename(file) },
          ...(options.resumeStore ? { urlStorage: new FileUrlStorage(options.resumeStore), storeFingerprintForResuming: true, removeFingerprintOnSuccess: true } : {}),
          onProgress: options.onProgress,
          onSuccess: () => {
            const id = upload.url?.split("/").pop();
            if (id) resolve(id);
            else reject(new Error("the upload finished without a call id"));
          },
          onError: (error) => reject(describeTusError(error)),
        });
        options.signal.addEventListener("abort", () => void upload.abort().then(() => reject(new Error("upload aborted"))), { once: true });
        // Resume an upload of this file that an earlier run left half done.
        void upload.findPreviousUploads().then((previous) => {
          if (previous[0]) upload.resumeFromPreviousUpload(previous[0]);
          upload.start();
        }, reject);
      });
    },

    async watch(callId, onEvent, signal) {
      const response = await fetch(`${baseUrl}/v1/calls/${callId}/events`, { headers: { ...auth, accept: "text/event-stream" }, signal });
      if (!response.ok || !response.body) throw await errorOf(response);
      let ended = false;
      const parser = createParser({
        onEvent: (message: EventSourceMessage) => {
          const event = { event: message.event ?? "message", data: JSON.parse(message.data) } as ProgressEvent;
          if (event.event === "end") ended = true;
          onEvent(event);
        },
      });
      const decoder = new TextDecoder();
      for await (const bytes of response.body) {
        parser.feed(decoder.decode(bytes, { stream: true }));
        if (ended) break;
      }
      if (!ended) throw new Error("the progress stream closed before the call ended");
    },

    async get<T>(path: string) {
      const response = await fetch(`${baseUrl}${path}`, { headers: auth, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      if (response.status >= 400 && response.status !== 404 && response.status !== 422 && response.status < 500) throw await errorOf(response);
      return { status: response.status, body: (await response.json()) as T };
    },

    async post<T>(path: string, body: unknown, headers: Record<string, string> = {}) {
      const response = await fetch(`${baseUrl}${path}`, {
        method: "POST",
        headers: { ...auth, ...headers, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (response.status >= 400) throw await errorOf(response);
      return { status: response.status, body: (await response.json()) as T };
    },
  };
}

async function errorOf(response: Response): Promise<ApiRequestError> {
  const text = await response.text().catch(() => "");
  try {
    const { error } = JSON.parse(text) as { error: { code: string; message: string } };
    return new ApiRequestError(response.status, error.code, error.message);
  } catch {
    return new ApiRequestError(response.status, "http_error", text.slice(0, 200) || response.statusText);
  }
}

/** tus-js-client folds the server's answer into its message; show the API's error code instead. */
function describeTusError(error: Error): Error {
  const body = (error as tus.DetailedError).originalResponse?.getBody();
  const status = (error as tus.DetailedError).originalResponse?.getStatus();
  if (body && status) {
    try {
      const { error: apiError } = JSON.parse(body) as { error: { code: string; message: string } };
      return new ApiRequestError(status, apiError.code, apiError.message);
    } catch {
      return new ApiRequestError(status, "upload_failed", body.slice(0, 200));
    }
  }
  return error;
}
