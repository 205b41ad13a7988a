import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface DialerMetrics {
  /** Placements by outcome: placed, requeued, rechecked, failed. */
  placements: Counter<"outcome">;
  /** From the request (the dial's creation) to the carrier's acceptance. */
  placementLatency: Histogram;
  /** Due dials waiting to be placed, by priority; refreshed by the placer. */
  backlog: Gauge<"priority">;
}

/** Gets a metric already on the registry (several dialers in one process) or creates it. */
const once = <M>(registry: Registry, name: string, create: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? create();

export const dialerMetrics = (registry: Registry): DialerMetrics => ({
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
