import { z } from "zod";
import { field, parseConfig, type Env, serviceConnection, serviceFields, type ServiceConnection } from "@callflow/config";

/** Every variable the aggregator reads; the README's configuration table lists them. */
const schema = z.object({
  ...serviceFields({ databasePoolSize: 10 }),
  CALLFLOW_AGGREGATOR_OPS_PORT: field.port().default(9103),
  /** Deliveries handled at once; deliveries for one call still queue on its row lock. */
  CALLFLOW_AGGREGATOR_CONCURRENCY: field.positiveInt().default(16),
  CALLFLOW_AGGREGATOR_ACK_WAIT_MS: field.milliseconds().default(30_000),
  CALLFLOW_AGGREGATOR_MAX_DELIVER: field.positiveInt().default(10),
});

export interface AggregatorConfig extends ServiceConnection {
  /** 0 picks a free port (tests). */
  readonly opsPort: number;
  readonly concurrency: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
}

/** Parsed once at start; throws a ConfigError naming every bad variable. */
export const aggregatorConfigFromEnv = (env: Env = process.env): AggregatorConfig => {
  const e = parseConfig(schema, env);
  return Object.freeze({
    ...serviceConnection(e),
    opsPort: e.CALLFLOW_AGGREGATOR_OPS_PORT,
    concurrency: e.CALLFLOW_AGGREGATOR_CONCURRENCY,
    ackWaitMs: e.CALLFLOW_AGGREGATOR_ACK_WAIT_MS,
    maxDeliver: e.CALLFLOW_AGGREGATOR_MAX_DELIVER,
  });
};
