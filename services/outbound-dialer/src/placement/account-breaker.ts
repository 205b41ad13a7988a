import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, CircuitState, handleWhen } from "cockatiel";
import type { Clock } from "@callflow/messaging";
import { RetryableTelephonyError } from "@callflow/telephony";
import { trackBreakerState, type ProviderMetrics } from "@callflow/telemetry";

/** The error a dial keeps while it waits out its provider account's open breaker. */
export const PROVIDER_BREAKER_OPEN = "provider_breaker_open";

/** Failures that say the account is down: 5xx and 408, timeouts, refused connections. A 429 is pacing, a 4xx the dial's own fault. */
const OUTAGE_CODES: ReadonlySet<string> = new Set(["telephony_unavailable", "telephony_timeout", "telephony_unreachable"]);
export const countsAsOutage = (error: unknown): boolean => error instanceof RetryableTelephonyError && OUTAGE_CODES.has(error.code);

/** Thrown instead of calling the carrier while the account's breaker is open. */
export class AccountBreakerOpen extends Error {
  constructor(readonly account: string, readonly halfOpenAt: Date) {
    super(`provider account ${account} failed repeatedly; its breaker is open until ${halfOpenAt.toISOString()}`);
  }
}

export interface AccountBreaker {
  /** Runs one request to the account's carrier; throws AccountBreakerOpen without calling it while open. */
  execute<T>(work: () => Promise<T>): Promise<T>;
  /** While open: when one trial request may go through again. Undefined when closed or half-open. */
  openUntil(): Date | undefined;
}

/**
 * One provider account's breaker in this replica (cockatiel, as transcription and summary protect
 * their providers). The dialer places with one account, so one breaker per process is one per
 * account; the pacing token is already keyed by the account. After `halfOpenMs` one trial placement
 * goes through; its success closes the breaker, its failure opens it again.
 */
export function createAccountBreaker(options: {
  account: string;
  threshold: number;
  halfOpenMs: number;
  clock: Clock;
  /** Each request counted by outcome, and the breaker's state, under `provider` (the telephony provider's name). */
  metrics?: { provider: string; on: Pick<ProviderMetrics, "requests" | "breakerState"> } | undefined;
}): AccountBreaker {
  const breaker = circuitBreaker(handleWhen(countsAsOutage), { halfOpenAfter: options.halfOpenMs, breaker: new ConsecutiveBreaker(options.threshold) });
  const { metrics } = options;
  if (metrics) trackBreakerState(metrics.on, metrics.provider, breaker);
  const counted = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      const result = await work();
      metrics?.on.requests.inc({ provider: metrics.provider, outcome: "ok" });
      return result;
    } catch (error) {
      const rateLimited = error instanceof RetryableTelephonyError && error.code === "telephony_rate_limited";
      metrics?.on.requests.inc({ provider: metrics.provider, outcome: rateLimited ? "rate_limited" : "error" });
      throw error;
    }
  };
  let openedAt = 0;
  breaker.onBreak(() => {
    openedAt = options.clock.now().getTime();
  });
  const halfOpenAt = () => new Date(openedAt + options.halfOpenMs);
  return {
    execute: async (work) => {
      try {
        return await breaker.execute(() => counted(work));
      } catch (error) {
        if (error instanceof BrokenCircuitError) throw new AccountBreakerOpen(options.account, halfOpenAt());
        throw error;
      }
    },
    // cockatiel moves to half-open only when the next request comes; past the time, it is due.
    openUntil: () => (breaker.state === CircuitState.Open && halfOpenAt() > options.clock.now() ? halfOpenAt() : undefined),
  };
}
