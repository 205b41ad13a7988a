import { UndecodableEventError } from "@callflow/contracts";

/**
 * What a handler decided about a message. The consume loop maps it to JetStream: `ack` → ack,
 * `retry` → nak with a delay, `dead` → dead letter, then term.
 */
export type Outcome = AckOutcome | RetryOutcome | DeadOutcome;

export interface AckOutcome {
  readonly kind: "ack";
}

export interface RetryOutcome {
  readonly kind: "retry";
  /** Redeliver after this long; default: the consumer's retry backoff for this delivery. */
  readonly afterMs?: number;
  /** Why, kept as the dead letter's error when this was the last delivery allowed. */
  readonly code: string;
  readonly message: string;
  /** A thrown error nobody classified: the loop logs its stack, since it is probably a bug. */
  readonly unclassified?: boolean;
  readonly error?: unknown;
}

export interface DeadOutcome {
  readonly kind: "dead";
  readonly code: string;
  readonly message: string;
}

const ACK: AckOutcome = Object.freeze({ kind: "ack" });

export const ack = (): AckOutcome => ACK;

export const retry = (options: { afterMs?: number; code?: string; message?: string } = {}): RetryOutcome => ({
  kind: "retry",
  ...(options.afterMs === undefined ? {} : { afterMs: options.afterMs }),
  code: options.code ?? "retry_requested",
  message: options.message ?? "the handler asked for a retry",
});

export const dead = (code: string, message: string): DeadOutcome => ({ kind: "dead", code, message });

/** A failure that may pass: timeouts, 429 (with its Retry-After), 5xx, a dependency not ready. */
export class RetryableError extends Error {
  // `string`, so a service's subclass names itself in logs.
  override readonly name: string = "RetryableError";
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { retryAfterMs?: number; code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? "retryable";
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * An HTTP `Retry-After` (seconds, or an HTTP date) as milliseconds from `now`, for a RetryableError's
 * `retryAfterMs`; undefined when absent or unreadable.
 */
export const parseRetryAfter = (value: string | null | undefined, now = Date.now()): number | undefined => {
  if (!value) return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

/** A failure no retry can fix: bad input, unsupported audio, a 4xx that is the request's fault. */
export class PermanentError extends Error {
  override readonly name: string = "PermanentError";
  constructor(readonly code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** Dead-letter rows and logs keep error text bounded; a provider may answer with a whole HTML page. */
export const MAX_ERROR_MESSAGE_LENGTH = 2_000;

export const describeError = (error: unknown): string => {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.length > MAX_ERROR_MESSAGE_LENGTH ? `${text.slice(0, MAX_ERROR_MESSAGE_LENGTH - 1)}…` : text;
};

/** The one place thrown errors become outcomes; anything unknown counts as retryable. */
export const classifyError = (error: unknown): RetryOutcome | DeadOutcome => {
  if (error instanceof PermanentError) return dead(error.code, describeError(error));
  if (error instanceof UndecodableEventError) return dead("undecodable", describeError(error));
  if (error instanceof RetryableError) {
    return {
      kind: "retry",
      ...(error.retryAfterMs === undefined ? {} : { afterMs: error.retryAfterMs }),
      code: error.code,
      message: describeError(error),
      error,
    };
  }
  const name = error instanceof Error ? error.name : typeof error;
  // A handler that honoured ctx.signal on shutdown: expected, and another delivery finishes the work.
  if (name === "AbortError") return { kind: "retry", code: "aborted", message: describeError(error), error };
  return { kind: "retry", code: "unclassified", message: `${name}: ${describeError(error)}`, unclassified: true, error };
};
