import { PermanentError } from "@callflow/messaging";
import type { SummaryContent } from "./summary-content.ts";

/** A transcript segment as the aggregator stores it (times relative to the call). */
export interface TranscriptSegment {
  start: number;
  end: number;
  text: string;
}

export interface TranscriptInput {
  text: string;
  segments: readonly TranscriptSegment[];
  /** When the call was made: relative dates ("next Tuesday") resolve against it, never against the clock. */
  referenceDate: Date;
}

export interface SummarizeContext {
  /** Called while work is in progress (the stage heartbeat and the message's ack deadline). */
  heartbeat(): void;
  /** Aborted at shutdown: the claim is released and another delivery does the work. */
  signal: AbortSignal;
}

/** Summary and structured extraction from a whole transcript (the LLM, or the local default). */
export interface Summarizer {
  /** Stored as the Summary row's `model`, e.g. `extractive-v1` or the LLM's model name. */
  readonly model: string;
  summarize(transcript: TranscriptInput, ctx: SummarizeContext): Promise<SummaryContent>;
}

/**
 * Why a summarizer gave up for good; the code is stored on the stage and the call (invariant 4).
 * A failure that may pass is a RetryableError (a long Retry-After); anything unclassified is
 * treated as transient and redelivered.
 */
export type SummaryErrorCode = "summary_invalid_output" | "summary_provider_unavailable" | "summary_provider_rejected";

export class SummaryFailedError extends PermanentError {
  declare readonly code: SummaryErrorCode;
  constructor(code: SummaryErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message.slice(0, 2_000), options);
  }
}
