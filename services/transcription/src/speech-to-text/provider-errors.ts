import { parseRetryAfter } from "@callflow/messaging";

/**
 * Provider failures, classified once at the adapter's edge (STYLE.md): the handler decides from
 * `retryable` alone and persists `code` and `message` on the chunk (invariant 4).
 */

export type ProviderErrorCode =
  | "provider_rejected"
  | "provider_rate_limited"
  | "provider_unavailable"
  | "provider_timeout"
  | "provider_circuit_open"
  | "provider_job_failed"
  | "unsupported_audio"
  | "transcription_failed";

export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    readonly retryable: boolean,
    options: { retryAfterMs?: number | undefined; status?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }
  readonly retryAfterMs: number | undefined;
  /** The provider's HTTP status, when it answered. */
  readonly status: number | undefined;
}

/** An HTTP answer from a provider as an error: 429 and 5xx are worth retrying, other 4xx are not. */
export const errorForStatus = (provider: string, status: number, detail: string, retryAfter?: string | null): ProviderError => {
  const message = `${provider} answered ${status}: ${detail}`.slice(0, 2_000);
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (status === 429) return new ProviderError("provider_rate_limited", message, true, { retryAfterMs, status });
  if (status >= 500 || status === 408) return new ProviderError("provider_unavailable", message, true, { retryAfterMs, status });
  return new ProviderError("provider_rejected", message, false, { status });
};

export const timeoutError = (provider: string, ms: number, cause?: unknown): ProviderError =>
  new ProviderError("provider_timeout", `${provider} did not answer within ${ms} ms`, true, { cause });
