import pg from "pg";
import { openRuntime, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import type { CallflowMetrics } from "@callflow/telemetry";
import { Histogram } from "prom-client";
import type { AggregatorConfig } from "./config.ts";
import { createCompleteOnFinish } from "./complete-on-finish.ts";
import { createSettleOnLedgerEvent, recordUnsettledOnDeadLetter } from "./handler.ts";
import { createCompletenessLedger } from "./ledger/completeness-ledger.ts";
import { pgLedgerReader } from "./ledger/read-ledger.ts";

export { aggregatorConfigFromEnv, type AggregatorConfig } from "./config.ts";
export { createCompletenessLedger, type CompletenessLedger } from "./ledger/completeness-ledger.ts";
export type { Settlement } from "./ledger/settle-call.ts";

export type AggregatorHandle = ServiceHandle;

export type StartOptions = ServiceStartOptions;

/** Last chunk terminal → call settled, as the aggregator sees it (the stuck-work dashboards read it). */
const fanInHistogram = (metrics: CallflowMetrics): Histogram => {
  const name = "callflow_aggregator_fan_in_seconds";
  const existing = metrics.registry.getSingleMetric(name);
  if (existing instanceof Histogram) return existing;
  return new Histogram({
    name,
    help: "Seconds from a call's last chunk turning terminal to the call being settled",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600],
    registers: [metrics.registry],
  });
};

/** A call's creation to its completion, observed where the call completes (the dashboards' end-to-end latency). */
const endToEndHistogram = (metrics: CallflowMetrics): Histogram => {
  const name = "callflow_call_end_to_end_seconds";
  const existing = metrics.registry.getSingleMetric(name);
  if (existing instanceof Histogram) return existing;
  return new Histogram({
    name,
    help: "Seconds from a call's creation to its completion",
    buckets: [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
    registers: [metrics.registry],
  });
};

/**
 * The completeness ledger as a worker: consumes `calls.ledger.*` (chunk transcribed, chunk failed,
 * upload finished) and settles each call's transcription exactly once; and `calls.finish.*` (merged,
 * summarized), completing the call once both artifacts are stored.
 */
export async function start(config: AggregatorConfig, options: StartOptions = {}): Promise<AggregatorHandle> {
  const runtime = await openRuntime({ service: "aggregator", config, ...options });
  // The look every event takes at its call goes through a plain pg pool (read-ledger.ts says why);
  // settling, a transaction with the outbox, goes through the runtime's Prisma client.
  const lookPool = await runtime.own(
    "opening the ledger's pool",
    async () => new pg.Pool({ connectionString: config.databaseUrl, max: config.concurrency, statement_timeout: 10_000, connectionTimeoutMillis: 10_000 }),
    (pool) => pool.end(),
  );
  lookPool.on("error", (error) => runtime.logger.warn({ err: error }, "idle ledger connection failed; the pool replaces it"));

  const { db, topology, relay, logger } = runtime;
  const ledger = createCompletenessLedger({ db, topology, relay, read: pgLedgerReader(lookPool) });
  const recordUnsettled = recordUnsettledOnDeadLetter(db);

  return runtime.run({
    consumers: [
      {
        declaration: { key: "aggregator", ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver },
        concurrency: config.concurrency,
        handler: createSettleOnLedgerEvent({ ledger, logger, fanIn: fanInHistogram(runtime.metrics) }),
        onDeadLetter: recordUnsettled,
      },
      {
        declaration: { key: "completion", ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver },
        concurrency: Math.max(1, Math.ceil(config.concurrency / 4)),
        handler: createCompleteOnFinish({ db, topology, relay, logger, endToEnd: endToEndHistogram(runtime.metrics) }),
        onDeadLetter: recordUnsettled,
      },
    ],
  });
}
