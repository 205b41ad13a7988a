import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { SlidingRate } from "./rate-window.ts";

/** The achieved rate's window: long enough to smooth a burst of one, short enough to show a stall. */
export const ACHIEVED_RATE_WINDOW_MS = 10_000;

export interface DialerMetrics {
  /** Placements by outcome: placed, requeued, rechecked, failed. */
  placements: Counter<"outcome">;
  /** From the request (the dial's creation) to the carrier's acceptance. */
  placementLatency: Histogram;
  /** Due dials waiting to be placed, by priority; refreshed by the placer. */
  backlog: Gauge<"priority">;
  /** This replica's placements, read by `callflow_dialer_achieved_calls_per_second`; the placer records each one. */
  achieved: SlidingRate;
  /** From the carrier's event time (`occurredAt`) to the dialer applying its status report. */
  callbackLag: Histogram;
}

/** Gets a metric already on the registry (several dialers in one process) or creates it. */
const once = <M>(registry: Registry, name: string, create: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? create();

/**
 * The dialer's metrics on a runtime's registry. `callsPerSecond` is the configured limit, shown as
 * `callflow_dialer_calls_per_second_limit` beside the achieved rate (this replica's placements over the
 * last ${ACHIEVED_RATE_WINDOW_MS / 1000} s, read with `now`; replicas sum to the account's rate).
 */
export const dialerMetrics = (registry: Registry, options: { callsPerSecond?: number; now?: () => number } = {}): DialerMetrics => {
  const now = options.now ?? Date.now;
  const achieved = new SlidingRate(ACHIEVED_RATE_WINDOW_MS);
  once(registry, "callflow_dialer_achieved_calls_per_second", () =>
    new Gauge({
      name: "callflow_dialer_achieved_calls_per_second",
      help: `Calls this replica placed per second over the last ${ACHIEVED_RATE_WINDOW_MS / 1000} s`,
      registers: [registry],
      collect() {
        this.set(achieved.perSecond(now()));
      },
    }),
  );
  if (options.callsPerSecond !== undefined) {
    const limit = once(registry, "callflow_dialer_calls_per_second_limit", () =>
      new Gauge({ name: "callflow_dialer_calls_per_second_limit", help: "Configured placements per second per provider account, across all replicas", registers: [registry] }),
    );
    limit.set(options.callsPerSecond);
  }
  return { ...basic(registry), achieved, callbackLag: callbackLag(registry) };
};

const callbackLag = (registry: Registry): Histogram =>
  once(registry, "callflow_dialer_callback_lag_seconds", () =>
    new Histogram({
      name: "callflow_dialer_callback_lag_seconds",
      help: "Seconds from the carrier's event time (occurredAt) to the dialer applying the status report",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
  );

const basic = (registry: Registry) => ({
  placements: once(registry, "callflow_dialer_placements_total", () =>
    new Counter({ name: "callflow_dialer_placements_total", help: "Placement attempts by outcome (placed, requeued, rechecked, failed)", labelNames: ["outcome"], registers: [registry] }),
  ),
  placementLatency: once(registry, "callflow_dialer_placement_latency_seconds", () =>
    new Histogram({
      name: "callflow_dialer_placement_latency_seconds",
      help: "Seconds from a dial's request to the carrier accepting its call",
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers: [registry],
    }),
  ),
  backlog: once(registry, "callflow_dialer_backlog", () =>
    new Gauge({ name: "callflow_dialer_backlog", help: "Due dials waiting to be placed, by priority", labelNames: ["priority"], registers: [registry] }),
  ),
});

/** Records the lag of a status report the dialer applied; a report without the carrier's time (or an unreadable one) is not counted. */
export const observeCallbackLag = (metrics: Pick<DialerMetrics, "callbackLag">, occurredAt: string, appliedAt: Date): void => {
  const at = occurredAt ? Date.parse(occurredAt) : Number.NaN;
  if (Number.isFinite(at)) metrics.callbackLag.observe(Math.max(0, appliedAt.getTime() - at) / 1000);
};
