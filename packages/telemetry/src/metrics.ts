import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface MetricsOptions {
  /** Value of the `service` label on every series of a registry this call creates or first labels. */
  service: string;
  /** Share one registry between services of one process; default: a new registry. */
  registry?: Registry;
}

export interface CallflowMetrics {
  readonly registry: Registry;
  /** Seconds a handler ran, by stage and outcome (ack, retry, dead). */
  readonly handlerDuration: Histogram<"stage" | "outcome">;
  readonly deliveries: Counter<"stage">;
  /** Deliveries with a delivery count above 1. */
  readonly redeliveries: Counter<"stage">;
  /** Seconds a message waited in its stream before its first delivery (publish to handler start). */
  readonly queueWait: Histogram<"stage">;
  readonly deadLetters: Counter<"stage">;
  /** Pending plus ack-pending messages of a durable consumer: what KEDA scales on. */
  readonly consumerLag: Gauge<"stream" | "consumer">;
  readonly outboxOldestAge: Gauge;
  readonly outboxPublished: Counter;
}

/** Audio work takes minutes: buckets reach 10 minutes so slow transcriptions stay visible. */
export const HANDLER_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];

const labelledService = new WeakMap<Registry, string>();

type MetricClass = abstract new (...args: never[]) => object;

/** The metric already registered under `name`, or a new one: a second caller on a registry reuses. */
const registered = <M>(registry: Registry, name: string, kind: MetricClass, create: () => M): M => {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return create();
  if (existing instanceof kind) return existing as M;
  throw new Error(`metric ${name} is already registered with a different type`);
};

export const createMetrics = (options: MetricsOptions): CallflowMetrics => {
  const registry = options.registry ?? new Registry();
  const registers = [registry];

  // A registry shared by the services of one process keeps its first service label; the stage
  // label tells their handlers apart, and collecting process metrics twice would throw.
  if (!labelledService.has(registry)) {
    labelledService.set(registry, options.service);
    registry.setDefaultLabels({ service: options.service });
    collectDefaultMetrics({ register: registry, prefix: "callflow_" });
  }

  return {
    registry,
    handlerDuration: registered(registry, "callflow_handler_duration_seconds", Histogram, () =>
      new Histogram({
        name: "callflow_handler_duration_seconds",
        help: "Time a message handler ran, by stage and outcome",
        labelNames: ["stage", "outcome"] as const,
        buckets: [...HANDLER_DURATION_BUCKETS],
        registers,
      }),
    ),
    deliveries: registered(registry, "callflow_deliveries_total", Counter, () =>
      new Counter({ name: "callflow_deliveries_total", help: "Messages delivered to a handler", labelNames: ["stage"] as const, registers }),
    ),
    redeliveries: registered(registry, "callflow_redeliveries_total", Counter, () =>
      new Counter({ name: "callflow_redeliveries_total", help: "Deliveries that were not the first for their message", labelNames: ["stage"] as const, registers }),
    ),
    queueWait: registered(registry, "callflow_queue_wait_seconds", Histogram, () =>
      new Histogram({
        name: "callflow_queue_wait_seconds",
        help: "Time a message waited in its stream before its first delivery, by stage",
        labelNames: ["stage"] as const,
        buckets: [...HANDLER_DURATION_BUCKETS],
        registers,
      }),
    ),
    deadLetters: registered(registry, "callflow_dead_letters_total", Counter, () =>
      new Counter({ name: "callflow_dead_letters_total", help: "Messages moved to the dead-letter stream", labelNames: ["stage"] as const, registers }),
    ),
    consumerLag: registered(registry, "callflow_consumer_lag", Gauge, () =>
      new Gauge({ name: "callflow_consumer_lag", help: "Pending plus ack-pending messages of a consumer", labelNames: ["stream", "consumer"] as const, registers }),
    ),
    outboxOldestAge: registered(registry, "callflow_outbox_oldest_age_seconds", Gauge, () =>
      new Gauge({ name: "callflow_outbox_oldest_age_seconds", help: "Age of the oldest unpublished outbox row (0 when none)", registers }),
    ),
    outboxPublished: registered(registry, "callflow_outbox_published_total", Counter, () =>
      new Counter({ name: "callflow_outbox_published_total", help: "Outbox rows published to NATS", registers }),
    ),
  };
};
