import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** How one request to an external provider ended: answered, paced (429), or failed otherwise. */
export type ProviderOutcome = "ok" | "rate_limited" | "error";

export const PROVIDER_OUTCOMES: readonly ProviderOutcome[] = ["ok", "rate_limited", "error"];

/** `callflow_provider_breaker_state`: 0 closed, 1 half-open (one trial request), 2 open (failing fast). */
export const BREAKER_STATE = { closed: 0, halfOpen: 1, open: 2 } as const;

export interface ProviderMetrics {
  /** Requests sent to a provider (each try, the in-process retries included), by outcome. */
  readonly requests: Counter<"provider" | "outcome">;
  readonly breakerState: Gauge<"provider">;
  /** Processing seconds per second of audio (below 1: faster than real time). */
  readonly realTimeFactor: Histogram<"provider">;
}

/** Real-time factors from a fast cloud model (0.02) to a slow local one (several times real time). */
export const REAL_TIME_FACTOR_BUCKETS: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8];

const once = <M>(registry: Registry, name: string, create: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? create();

/**
 * The provider metrics on a service's registry. Each named provider starts with every outcome at 0,
 * so a dashboard shows "no 429s" as 0 rather than as no data; a breaker's series starts with
 * trackBreakerState (a provider without a breaker, the local recognizer, has none).
 */
export const providerMetrics = (registry: Registry, providers: readonly string[] = []): ProviderMetrics => {
  const metrics: ProviderMetrics = {
    requests: once(registry, "callflow_provider_requests_total", () =>
      new Counter({ name: "callflow_provider_requests_total", help: "Requests to an external provider by outcome (ok, rate_limited, error)", labelNames: ["provider", "outcome"] as const, registers: [registry] }),
    ),
    breakerState: once(registry, "callflow_provider_breaker_state", () =>
      new Gauge({ name: "callflow_provider_breaker_state", help: "A provider's circuit breaker in this process: 0 closed, 1 half-open, 2 open", labelNames: ["provider"] as const, registers: [registry] }),
    ),
    realTimeFactor: once(registry, "callflow_transcription_real_time_factor", () =>
      new Histogram({
        name: "callflow_transcription_real_time_factor",
        help: "Seconds a provider took per second of audio transcribed",
        labelNames: ["provider"] as const,
        buckets: [...REAL_TIME_FACTOR_BUCKETS],
        registers: [registry],
      }),
    ),
  };
  for (const provider of providers) {
    for (const outcome of PROVIDER_OUTCOMES) metrics.requests.inc({ provider, outcome }, 0);
  }
  return metrics;
};

/** cockatiel's CircuitState numbering: Closed 0, Open 1, HalfOpen 2, Isolated 3. */
const FROM_COCKATIEL: Record<number, number> = { 0: BREAKER_STATE.closed, 1: BREAKER_STATE.open, 2: BREAKER_STATE.halfOpen, 3: BREAKER_STATE.open };

/** Follows a cockatiel circuit breaker's state into `callflow_provider_breaker_state{provider}`. */
export const trackBreakerState = (
  metrics: Pick<ProviderMetrics, "breakerState">,
  provider: string,
  breaker: { onStateChange(listener: (state: number) => void): unknown },
): void => {
  metrics.breakerState.set({ provider }, BREAKER_STATE.closed);
  breaker.onStateChange((state) => metrics.breakerState.set({ provider }, FROM_COCKATIEL[state] ?? BREAKER_STATE.open));
};
