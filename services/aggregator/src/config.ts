import { z } from "zod";
import { field, parseConfig, type Env } from "@callflow/config";
import { DEFAULT_NAMESPACE } from "@callflow/contracts";

/** Every variable the aggregator reads; the README's configuration table lists them. */
const schema = z.object({
  CALLFLOW_DATABASE_URL: field.url({ protocols: ["postgres", "postgresql"] }).default("postgresql://postgres@127.0.0.1:5432/callflow"),
  CALLFLOW_DATABASE_POOL_SIZE: field.positiveInt().default(10),
  CALLFLOW_NATS_URL: field.url({ protocols: ["nats", "tls"] }).default("nats://127.0.0.1:4222"),
  CALLFLOW_NAMESPACE: z.string().regex(/^[a-z][a-z0-9_]{0,30}$/, "is not a namespace (a-z, 0-9, _)").default(DEFAULT_NAMESPACE),
  CALLFLOW_LOG_LEVEL: field.oneOf(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  CALLFLOW_AGGREGATOR_OPS_PORT: field.port().default(9103),
  /** Deliveries handled at once; deliveries for one call still queue on its row lock. */
  CALLFLOW_AGGREGATOR_CONCURRENCY: field.positiveInt().default(16),
  CALLFLOW_AGGREGATOR_ACK_WAIT_MS: field.milliseconds().default(30_000),
  CALLFLOW_AGGREGATOR_MAX_DELIVER: field.positiveInt().default(10),
});

export interface AggregatorConfig {
  readonly databaseUrl: string;
  readonly databasePoolSize: number;
  readonly natsUrl: string;
  readonly namespace: string;
  readonly logLevel: string;
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
    databaseUrl: e.CALLFLOW_DATABASE_URL,
    databasePoolSize: e.CALLFLOW_DATABASE_POOL_SIZE,
    natsUrl: e.CALLFLOW_NATS_URL,
    namespace: e.CALLFLOW_NAMESPACE,
    logLevel: e.CALLFLOW_LOG_LEVEL,
    opsPort: e.CALLFLOW_AGGREGATOR_OPS_PORT,
    concurrency: e.CALLFLOW_AGGREGATOR_CONCURRENCY,
    ackWaitMs: e.CALLFLOW_AGGREGATOR_ACK_WAIT_MS,
    maxDeliver: e.CALLFLOW_AGGREGATOR_MAX_DELIVER,
  });
};
