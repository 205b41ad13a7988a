import { httpStatusOf } from "./s3-errors.ts";

/** How long a starting service waits for unreachable object storage (`CALLFLOW_S3_WAIT_MS`). */
export const DEFAULT_S3_WAIT_MS = 180_000;

const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);
// The SDK's names for a request that got no answer in time.
const TIMEOUT_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);

/**
 * Whether an S3 error says the server could not be reached or is not serving yet (a restarting
 * MinIO answers 502/503), as opposed to one that answered: wrong credentials or a bucket name
 * taken by someone else do not get better by waiting.
 */
export function isStorageUnreachable(error: unknown, depth = 0): boolean {
  if (depth > 8 || typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === "string" && SOCKET_CODES.has(e.code)) return true;
  if (typeof e.name === "string" && TIMEOUT_NAMES.has(e.name)) return true;
  const status = httpStatusOf(error);
  if (status === 502 || status === 503 || status === 504) return true;
  if (e.cause !== undefined && isStorageUnreachable(e.cause, depth + 1)) return true;
  return Array.isArray(e.errors) && e.errors.some((inner) => isStorageUnreachable(inner, depth + 1));
}

/** Object storage stayed unreachable for the whole wait; the service gives up starting. */
export class StorageUnreachableError extends Error {
  override readonly name = "StorageUnreachableError";
  constructor(readonly endpoint: string, readonly limitMs: number, readonly attempts: number, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`object storage at ${endpoint} was not reachable within ${limitMs} ms (${attempts} attempts; CALLFLOW_S3_WAIT_MS); last error: ${reason}`, options);
  }
}

export interface BucketWaitOptions {
  endpoint: string;
  limitMs: number;
  logger?: { warn(details: Record<string, unknown>, message: string): void } | undefined;
  /** First delay, doubled each try up to 10 s, with jitter; default 250 ms. */
  initialDelayMs?: number;
}

/** Runs `ensureBucket` until it answers, waiting out an unreachable server up to the limit (the same backoff as waitForDatabase). */
export async function waitForBucket(ensureBucket: () => Promise<void>, options: BucketWaitOptions): Promise<void> {
  const initialDelayMs = options.initialDelayMs ?? 250;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureBucket();
      return;
    } catch (error) {
      if (!isStorageUnreachable(error)) throw error;
      const elapsedMs = Date.now() - started;
      const remainingMs = options.limitMs - elapsedMs;
      if (remainingMs <= 0) throw new StorageUnreachableError(options.endpoint, options.limitMs, attempt, { cause: error });
      // Jitter over the upper half of the delay keeps replicas restarted together from retrying in step.
      const backoff = Math.min(10_000, initialDelayMs * 2 ** (attempt - 1));
      const nextDelayMs = Math.max(1, Math.min(remainingMs, Math.round(backoff / 2 + (Math.random() * backoff) / 2)));
      options.logger?.warn(
        { attempt, nextDelayMs, elapsedMs, limitMs: options.limitMs, endpoint: options.endpoint, reason: error instanceof Error ? error.message : String(error) },
        "object storage not reachable yet; waiting",
      );
      await new Promise((resolve) => setTimeout(resolve, nextDelayMs));
    }
  }
}
