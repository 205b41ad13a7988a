import { parseRetryAfter, PermanentError, RetryableError } from "@callflow/messaging";

/**
 * Telephony failures, classified once where the provider's answer arrives (STYLE.md). `code` is
 * Callflow's; `providerCode` is the provider's own (Twilio's 21211, 20003, …) for the dial's record.
 */
export type TelephonyErrorCode =
  | "telephony_rate_limited"
  | "telephony_unavailable"
  | "telephony_timeout"
  | "telephony_unreachable"
  | "telephony_marker_pending"
  | "telephony_invalid_number"
  | "telephony_unauthorized"
  | "telephony_not_found"
  | "telephony_rejected"
  | "telephony_foreign_recording_url";

interface Detail {
  status?: number | undefined;
  providerCode?: number | undefined;
  cause?: unknown;
}

/** A 429 (with its Retry-After), a 5xx, a timeout, a refused connection: another try may pass. */
export class RetryableTelephonyError extends RetryableError {
  declare readonly code: TelephonyErrorCode;
  readonly status: number | undefined;
  readonly providerCode: number | undefined;
  constructor(code: TelephonyErrorCode, message: string, detail: Detail & { retryAfterMs?: number | undefined } = {}) {
    super(message, { code, retryAfterMs: detail.retryAfterMs, cause: detail.cause });
    this.status = detail.status;
    this.providerCode = detail.providerCode;
  }
}

/** A bad number, wrong credentials, a refused request: the same request will fail the same way. */
export class PermanentTelephonyError extends PermanentError {
  declare readonly code: TelephonyErrorCode;
  readonly status: number | undefined;
  readonly providerCode: number | undefined;
  constructor(code: TelephonyErrorCode, message: string, detail: Detail = {}) {
    super(code, message, { cause: detail.cause });
    this.status = detail.status;
    this.providerCode = detail.providerCode;
  }
}

export type TelephonyError = RetryableTelephonyError | PermanentTelephonyError;

/** Twilio's codes for a destination that is not a callable number. */
const INVALID_NUMBER_CODES = new Set([13223, 13224, 21211, 21214, 21217, 21401]);

/** An error answer from the provider's REST API as a classified error. */
export const errorForAnswer = (answer: { status: number; providerCode?: number | undefined; message: string; retryAfter?: string | undefined }): TelephonyError => {
  const { status, providerCode } = answer;
  const message = `twilio answered ${status}${providerCode ? ` (${providerCode})` : ""}: ${answer.message}`.slice(0, 2_000);
  const retryAfterMs = parseRetryAfter(answer.retryAfter);
  if (status === 429) return new RetryableTelephonyError("telephony_rate_limited", message, { status, providerCode, retryAfterMs });
  if (status >= 500 || status === 408) return new RetryableTelephonyError("telephony_unavailable", message, { status, providerCode, retryAfterMs });
  if (status === 401 || status === 403) return new PermanentTelephonyError("telephony_unauthorized", message, { status, providerCode });
  if (status === 404) return new PermanentTelephonyError("telephony_not_found", message, { status, providerCode });
  if (providerCode !== undefined && INVALID_NUMBER_CODES.has(providerCode)) {
    return new PermanentTelephonyError("telephony_invalid_number", message, { status, providerCode });
  }
  return new PermanentTelephonyError("telephony_rejected", message, { status, providerCode });
};
