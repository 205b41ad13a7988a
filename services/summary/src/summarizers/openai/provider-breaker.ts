import { BrokenCircuitError, ConsecutiveBreaker, bulkhead, circuitBreaker, handleWhen, wrap } from "cockatiel";
import { APIConnectionError, APIError } from "openai";
import { RetryableError } from "@callflow/messaging";
import { trackBreakerState, type ProviderMetrics, type ProviderOutcome } from "@callflow/telemetry";

/**
 * The provider's protection in this process (cockatiel, as transcription's providers have): a
 * concurrency limit and a circuit breaker. Consecutive outage failures (5xx, 408, timeouts,
 * unreachable) open it; while open, a request fails at once with a RetryableError whose delay is
 * the half-open delay, so an LLM outage waits in JetStream instead of in retries against it. After
 * the delay one trial request goes through, and its success closes the breaker.
 */

export interface ProviderBreakerOptions {
  provider: string;
  /** Requests to this provider in flight at once, from this process. */
  concurrency: number;
  /** Consecutive outage failures that open the breaker. */
  breakerThreshold: number;
  halfOpenAfterMs: number;
  /** Each request counted by outcome, and the breaker's state, under `provider`. */
  metrics?: Pick<ProviderMetrics, "requests" | "breakerState"> | undefined;
}

export const DEFAULT_PROVIDER_BREAKER: Omit<ProviderBreakerOptions, "provider" | "metrics"> = { concurrency: 4, breakerThreshold: 5, halfOpenAfterMs: 30_000 };

export interface ProviderBreaker {
  /** Runs one request under the limit and the breaker; `work` gets a signal that follows `signal`. */
  execute<T>(work: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T>;
}

/** A 429 is the provider pacing us, and a 4xx or invalid output is the request's own fault: none is an outage. */
export const countsAsOutage = (error: unknown): boolean =>
  error instanceof APIConnectionError || (error instanceof APIError && typeof error.status === "number" && (error.status >= 500 || error.status === 408));

const outcomeOf = (error: unknown): ProviderOutcome => (error instanceof APIError && error.status === 429 ? "rate_limited" : "error");

export function createProviderBreaker(options: ProviderBreakerOptions): ProviderBreaker {
  const breaker = circuitBreaker(handleWhen(countsAsOutage), {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakerThreshold),
  });
  const { metrics, provider } = options;
  if (metrics) trackBreakerState(metrics, provider, breaker);
  const counted = async <T>(work: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> => {
    try {
      const result = await work(signal);
      metrics?.requests.inc({ provider, outcome: "ok" });
      return result;
    } catch (error) {
      metrics?.requests.inc({ provider, outcome: outcomeOf(error) });
      throw error;
    }
  };
  // Limit outside the breaker: a request that waited for a slot still meets an open breaker and fails fast.
  const policy = wrap(bulkhead(options.concurrency, Number.MAX_SAFE_INTEGER), breaker);
  return {
    execute: async (work, signal) => {
      try {
        return await policy.execute(({ signal: requestSignal }) => counted(work, requestSignal), signal);
      } catch (error) {
        if (error instanceof BrokenCircuitError) {
          throw new RetryableError(`${options.provider} is failing; its circuit is open for ${options.halfOpenAfterMs} ms`, {
            code: "summary_provider_unavailable",
            retryAfterMs: options.halfOpenAfterMs,
            cause: error,
          });
        }
        throw error;
      }
    },
  };
}
