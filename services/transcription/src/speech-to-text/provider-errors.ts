import { parseRetryAfter, PermanentError, RetryableError } from "@callflow/messaging";

/**
 * Provider failures, classified once at the adapter's edge (STYLE.md): a RetryableProviderError or a
 * PermanentProviderError, which classifyError turns into a retry or a dead end. Their `code` and
 * `message` are persisted on the chunk (invariant 4).
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

interface ProviderErrorOptions {
  /** The provider's HTTP status, when it answered. */
  status?: number | undefined;
  cause?: unknown;
}

/** A timeout, a 429 (with its Retry-After), a 5xx, an open circuit: another try may pass. */
export class RetryableProviderError extends RetryableError {
  declare readonly code: ProviderErrorCode;
  readonly retryable = true;
  readonly status: number | undefined;
  constructor(code: ProviderErrorCode, message: string, options: ProviderErrorOptions & { retryAfterMs?: number | undefined } = {}) {
    super(message, { code, retryAfterMs: options.retryAfterMs, cause: options.cause });
    this.status = options.status;
  }
}

/** A 4xx that is the request's fault, audio the provider cannot read, a job it failed: no retry helps. */
export class PermanentProviderError extends PermanentError {
  declare readonly code: ProviderErrorCode;
  readonly retryable = false;
  readonly status: number | undefined;
  constructor(code: ProviderErrorCode, message: string, options: ProviderErrorOptions = {}) {
    super(code, message, { cause: options.cause });
    this.status = options.status;
  }
}

/** Either kind; `retryable` tells them apart where both are handled. */
export type ProviderError = RetryableProviderError | PermanentProviderError;

/** An HTTP answer from a provider as an error: 429 and 5xx are worth retrying, other 4xx are not. */
export const errorForStatus = (provider: string, status: number, detail: string, retryAfter?: string | null): ProviderError => {
  const message = `${provider} answered ${status}: ${detail}`.slice(0, 2_000);
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (status === 429) return new RetryableProviderError("provider_rate_limited", message, { retryAfterMs, status });
  if (status >= 500 || status === 408) return new RetryableProviderError("provider_unavailable", message, { retryAfterMs, status });
  return new PermanentProviderError("provider_rejected", message, { status });
};

export const timeoutError = (provider: string, ms: number, cause?: unknown): RetryableProviderError =>
  new RetryableProviderError("provider_timeout", `${provider} did not answer within ${ms} ms`, { cause });
