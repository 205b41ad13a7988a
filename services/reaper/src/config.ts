import { z } from "zod";
import { field, parseConfig, type Env, serviceConnection, serviceFields, workerFields } from "@callflow/config";
import { storageConfigFromEnv } from "@callflow/storage";
import { reaperPolicyFields, reaperPolicyOf } from "@callflow/housekeeping";

const worker = workerFields("REAPER", { opsPort: 9106 });

/** Every variable the reaper reads; the README's configuration table lists them. */
const schema = z.object({
  ...serviceFields({ databasePoolSize: 5 }),
  ...worker.fields,
  CALLFLOW_REAPER_INTERVAL_MS: field.milliseconds().default(30_000),
  CALLFLOW_REAPER_DRY_RUN: field.boolean().default(false),
  /** A sweep holds its lock at most this long; a slower one is abandoned and the next takes over. */
  CALLFLOW_REAPER_SWEEP_TIMEOUT_MS: field.milliseconds().default(120_000),
  ...reaperPolicyFields,
});

export type ReaperConfig = ReturnType<typeof reaperConfigFromEnv>;

/** Parsed once at start; throws a ConfigError naming every bad variable. */
export const reaperConfigFromEnv = (env: Env = process.env) => {
  const e = parseConfig(schema, env);
  return Object.freeze({
    ...serviceConnection(e),
    ...worker.settings(e),
    intervalMs: e.CALLFLOW_REAPER_INTERVAL_MS,
    dryRun: e.CALLFLOW_REAPER_DRY_RUN,
    sweepTimeoutMs: e.CALLFLOW_REAPER_SWEEP_TIMEOUT_MS,
    policy: reaperPolicyOf(e),
    storage: storageConfigFromEnv(env),
  });
};
