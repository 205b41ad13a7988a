import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { parseRetryAfter, RetryableError } from "@callflow/messaging";
import { SummaryFailedError, type SummarizeContext } from "../port.ts";
import { summaryContent, type SummaryContent } from "../summary-content.ts";

/**
 * One summarization step (a part, or the combine) as a bounded series of requests: invalid output,
 * 429, 5xx and timeouts are tried again up to `maxAttempts`, then the step fails with a stable code.
 * A 4xx other than 429 is the request's fault and fails at once.
 */

export interface RetryPolicy {
  maxAttempts: number;
  /** First backoff after a 5xx or timeout; doubles each attempt, up to maxBackoffMs. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /**
   * A Retry-After up to this long is waited out here; a longer one hands the message back to
   * JetStream with that delay (RetryableError), rather than holding a consumer slot for minutes.
   */
  maxInlineWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseBackoffMs: 500, maxBackoffMs: 8_000, maxInlineWaitMs: 30_000 };

type Failure =
  | { kind: "invalid_output"; message: string }
  | { kind: "unavailable"; message: string; retryAfterMs?: number | undefined }
  | { kind: "rejected"; message: string };

const classify = (error: unknown, timeoutMs: number): Failure | undefined => {
  if (error instanceof APIUserAbortError) return undefined;
  if (error instanceof APIConnectionTimeoutError) return { kind: "unavailable", message: `the provider did not answer within ${timeoutMs} ms` };
  if (error instanceof APIConnectionError) return { kind: "unavailable", message: `the provider is unreachable: ${error.message}` };
  if (error instanceof APIError && typeof error.status === "number") {
    const message = `the provider answered ${error.status}: ${error.message.replace(/^\d+\s+/, "")}`;
    if (error.status === 429) return { kind: "unavailable", message, retryAfterMs: parseRetryAfter(error.headers?.get("retry-after")) };
    if (error.status >= 500 || error.status === 408) return { kind: "unavailable", message };
    return { kind: "rejected", message };
  }
  return undefined;
};

/** The answer's text as validated content, or why it is not. Never returns unvalidated output. */
export const validateAnswer = (content: string | null | undefined, finishReason: string | null | undefined): SummaryContent | Failure => {
  if (finishReason === "length") return { kind: "invalid_output", message: "the answer was cut off at the token limit" };
  if (!content) return { kind: "invalid_output", message: "the answer has no content (refused or empty)" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return { kind: "invalid_output", message: `the answer is not JSON (${content.length} characters)` };
  }
  const result = summaryContent.safeParse(parsed);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
    return { kind: "invalid_output", message: `the answer does not match the summary schema: ${issues.join("; ")}` };
  }
  return result.data;
};

const isFailure = (value: SummaryContent | Failure): value is Failure => "kind" in value;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });

const CODES = {
  invalid_output: "summary_invalid_output",
  unavailable: "summary_provider_unavailable",
  rejected: "summary_provider_rejected",
} as const;

export interface CompletionAnswer {
  content: string | null | undefined;
  finishReason: string | null | undefined;
}

/** `request` makes one HTTP request with the given signal; errors are the SDK's own. */
export async function requestValidated(
  request: (signal: AbortSignal) => Promise<CompletionAnswer>,
  options: { policy: RetryPolicy; timeoutMs: number; ctx: SummarizeContext; what: string },
): Promise<SummaryContent> {
  const { policy, ctx } = options;
  let last: Failure | undefined;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    ctx.heartbeat();
    let outcome: SummaryContent | Failure;
    try {
      const answer = await request(ctx.signal);
      outcome = validateAnswer(answer.content, answer.finishReason);
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? error;
      const failure = classify(error, options.timeoutMs);
      if (!failure) throw error;
      outcome = failure;
    }
    if (!isFailure(outcome)) return outcome;
    last = outcome;
    if (outcome.kind === "rejected" || attempt === policy.maxAttempts) break;

    let waitMs = Math.min(policy.maxBackoffMs, policy.baseBackoffMs * 2 ** (attempt - 1));
    if (outcome.kind === "unavailable" && outcome.retryAfterMs !== undefined) {
      if (outcome.retryAfterMs > policy.maxInlineWaitMs) {
        throw new RetryableError(`${options.what}: ${outcome.message}`, { code: "summary_provider_rate_limited", retryAfterMs: outcome.retryAfterMs });
      }
      waitMs = outcome.retryAfterMs;
    } else if (outcome.kind === "invalid_output") {
      // The model answered; asking again at once is the cheapest fix for a malformed answer.
      waitMs = 0;
    }
    if (waitMs > 0) await sleep(waitMs, ctx.signal);
  }
  const failure = last!;
  const tries = failure.kind === "rejected" ? "" : ` (after ${policy.maxAttempts} attempts)`;
  throw new SummaryFailedError(CODES[failure.kind], `${options.what}: ${failure.message}${tries}`);
}
