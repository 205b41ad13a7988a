import { PermanentError, RetryableError } from "@callflow/messaging";

/**
 * How a media tool run ended badly. Only `rejected` (the tool ran and refused the input, or crashed on
 * it) says something about the input; a tool that could not start, ran out of time or was cancelled
 * says nothing about it.
 */
export type MediaToolFailure = "rejected" | "not_started" | "timed_out" | "cancelled";

/** Outcome codes when the caller names none; `aborted` is the consume loop's own code for a cancelled handler. */
const DEFAULT_CODES: Readonly<Record<MediaToolFailure, string>> = {
  rejected: "unsupported_audio",
  not_started: "media_tool_unavailable",
  timed_out: "media_tool_timeout",
  cancelled: "aborted",
};

/** The one error of every ffmpeg, ffprobe, sox (or other media tool) run. */
export class MediaToolError extends Error {
  override readonly name = "MediaToolError";
  readonly tool: string;
  readonly failure: MediaToolFailure;
  /** Null when the tool did not start or was ended by a signal. */
  readonly exitCode: number | null;
  readonly exitSignal: NodeJS.Signals | null;
  /** The end of what the tool wrote to stderr (at most 4 KiB): where ffmpeg says why it stopped. */
  readonly stderrTail: string;

  constructor(details: {
    tool: string;
    failure: MediaToolFailure;
    message: string;
    exitCode?: number | null;
    exitSignal?: NodeJS.Signals | null;
    stderrTail?: string;
    cause?: unknown;
  }) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause });
    this.tool = details.tool;
    this.failure = details.failure;
    this.exitCode = details.exitCode ?? null;
    this.exitSignal = details.exitSignal ?? null;
    this.stderrTail = details.stderrTail ?? "";
  }

  get timedOut(): boolean {
    return this.failure === "timed_out";
  }

  /** The input is at fault: no retry will read it better. */
  get rejectedInput(): boolean {
    return this.failure === "rejected";
  }

  /**
   * This failure in the outcome vocabulary: a rejected input is a PermanentError (unsupported or
   * corrupt audio); anything else a RetryableError, since another try on another worker may succeed.
   * `codes` replaces the default code of a failure; `context` prefixes the message.
   */
  toOutcomeError(options: { context?: string; codes?: Partial<Record<MediaToolFailure, string>> } = {}): PermanentError | RetryableError {
    const code = options.codes?.[this.failure] ?? DEFAULT_CODES[this.failure];
    const message = options.context ? `${options.context}: ${this.message}` : this.message;
    return this.rejectedInput ? new PermanentError(code, message, { cause: this }) : new RetryableError(message, { code, cause: this });
  }
}
