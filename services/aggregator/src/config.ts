import { z } from "zod";
import { parseConfig, type Env, serviceConnection, serviceFields, workerFields } from "@callflow/config";

// Concurrency: deliveries handled at once; deliveries for one call still queue on its row lock.
const worker = workerFields("AGGREGATOR", { opsPort: 9103, concurrency: 16, ackWaitMs: 30_000, maxDeliver: 10 });

/** Every variable the aggregator reads; the README's configuration table lists them. */
const schema = z.object({
  ...serviceFields({ databasePoolSize: 10 }),
  ...worker.fields,
});

export type AggregatorConfig = ReturnType<typeof aggregatorConfigFromEnv>;

/** Parsed once at start; throws a ConfigError naming every bad variable. */
export const aggregatorConfigFromEnv = (env: Env = process.env) => {
  const e = parseConfig(schema, env);
  return Object.freeze({ ...serviceConnection(e), ...worker.settings(e) });
};
