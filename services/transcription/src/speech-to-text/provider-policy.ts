import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConsecutiveBreaker,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
} from "cockatiel";
import { trackBreakerState, type ProviderMetrics, type ProviderOutcome } from "@callflow/telemetry";
import { RetryableProviderError } from "./provider-errors.ts";

/**
 * One policy per provider (cockatiel): a concurrency limit, a few quick retries that honour the
 * provider's Retry-After, and a circuit breaker that stops hammering a provider that keeps failing.
 * Whatever is still failing after that goes back to the runtime as a retryable error with a delay,
 * so a long outage waits in JetStream, not in a handler.
 */

export interface ProviderPolicyOptions {
  provider: string;
  /** Requests to this provider in flight at once, from this process. */
  concurrency: number;
  /** Tries per call, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited out here: the message is redelivered after it. */
  maxRetryAfterMs: number;
  /** Consecutive failures (5xx, timeouts) that open the circuit. */
  breakerThreshold: number;
  halfOpenAfterMs: number;
  /** Each try counted by outcome, and the breaker's state, under this provider's name. */
  metrics?: Pick<ProviderMetrics, "requests" | "breakerState"> | undefined;
}

export const DEFAULT_POLICY: Omit<ProviderPolicyOptions, "provider" | "metrics"> = {
  concurrency: 8,
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 30_000,
  breakerThreshold: 5,
  halfOpenAfterMs: 30_000,
};

export interface ProviderPolicy {
  execute<T>(work: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T>;
  /** Retries made so far (the in-process ones), for tests and metrics. */
  readonly retries: number;
}

type Context = IRetryBackoffContext<unknown>;

const retryAfterOf = (context: Context): number | undefined =>
  "error" in context.result && context.result.error instanceof RetryableProviderError ? context.result.error.retryAfterMs : undefined;

/** Retry-After when the provider gave one; otherwise exponential with full jitter. */
const honouringRetryAfter = (base: number, max: number): IBackoffFactory<Context> => {
  const make = (context: Context): IBackoff<Context> => ({
    duration: retryAfterOf(context) ?? Math.round(Math.random() * Math.min(max, base * 2 ** (context.attempt - 1))),
    next: make,
  });
  return { next: make };
};

/** A provider's answer as `callflow_provider_requests_total` counts it. */
export const outcomeOf = (error: unknown): ProviderOutcome =>
  error instanceof RetryableProviderError && error.code === "provider_rate_limited" ? "rate_limited" : "error";

const countsAgainstProvider = (error: unknown): boolean =>
  error instanceof RetryableProviderError && (error.code === "provider_unavailable" || error.code === "provider_timeout");

export function createProviderPolicy(options: ProviderPolicyOptions): ProviderPolicy {
  const retryHere = (error: unknown): boolean =>
    error instanceof RetryableProviderError && error.code !== "provider_circuit_open" && (error.retryAfterMs ?? 0) <= options.maxRetryAfterMs;
  const retries = retry(handleWhen(retryHere), {
    maxAttempts: options.maxAttempts - 1,
    backoff: honouringRetryAfter(options.baseDelayMs, options.maxDelayMs),
  });
  const breaker = circuitBreaker(handleWhen(countsAgainstProvider), {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakerThreshold),
  });
  const { metrics } = options;
  if (metrics) trackBreakerState(metrics, options.provider, breaker);
  const counted = <T>(work: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> =>
    metrics
      ? work(signal).then(
          (result) => {
            metrics.requests.inc({ provider: options.provider, outcome: "ok" });
            return result;
          },
          (error: unknown) => {
            metrics.requests.inc({ provider: options.provider, outcome: outcomeOf(error) });
            throw error;
          },
        )
      : work(signal);
  const limit = bulkhead(options.concurrency, Number.MAX_SAFE_INTEGER);
  const policy = wrap(limit, retries, breaker);
  let retried = 0;
  retries.onRetry(() => {
    retried += 1;
  });

  return {
    get retries() {
      return retried;
    },
    execute: async (work, signal) => {
      try {
        return await policy.execute(({ signal: attemptSignal }) => counted(work, attemptSignal), signal);
      } catch (error) {
        if (error instanceof BrokenCircuitError) {
          throw new RetryableProviderError("provider_circuit_open", `${options.provider} is failing; its circuit is open`, {
            retryAfterMs: options.halfOpenAfterMs,
            cause: error,
          });
        }
        if (error instanceof BulkheadRejectedError) {
          throw new RetryableProviderError("provider_unavailable", `${options.provider}: too many requests queued here`, { retryAfterMs: 1_000 });
        }
        throw error;
      }
    },
  };
}
