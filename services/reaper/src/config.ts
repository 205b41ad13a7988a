import { z } from "zod";
import { field, parseConfig, type Env, serviceConnection, serviceFields, type ServiceConnection } from "@callflow/config";
import { storageConfigFromEnv, type StorageConfig } from "@callflow/storage";
import { reaperPolicyFields, reaperPolicyOf, type ReaperPolicy } from "@callflow/housekeeping";

/** Every variable the reaper reads; the README's configuration table lists them. */
const schema = z.object({
  ...serviceFields({ databasePoolSize: 5 }),
  CALLFLOW_REAPER_OPS_PORT: field.port().default(9106),
  CALLFLOW_REAPER_INTERVAL_MS: field.milliseconds().default(30_000),
  CALLFLOW_REAPER_DRY_RUN: field.boolean().default(false),
  /** A sweep holds its lock at most this long; a slower one is abandoned and the next takes over. */
  CALLFLOW_REAPER_SWEEP_TIMEOUT_MS: field.milliseconds().default(120_000),
  ...reaperPolicyFields,
});

export interface ReaperConfig extends ServiceConnection {
  /** 0 picks a free port (tests). */
  readonly opsPort: number;
  readonly intervalMs: number;
  readonly dryRun: boolean;
  readonly sweepTimeoutMs: number;
  readonly policy: ReaperPolicy;
  readonly storage: StorageConfig;
}

/** Parsed once at start; throws a ConfigError naming every bad variable. */
export const reaperConfigFromEnv = (env: Env = process.env): ReaperConfig => {
  const e = parseConfig(schema, env);
  return Object.freeze({
    ...serviceConnection(e),
    opsPort: e.CALLFLOW_REAPER_OPS_PORT,
    intervalMs: e.CALLFLOW_REAPER_INTERVAL_MS,
    dryRun: e.CALLFLOW_REAPER_DRY_RUN,
    sweepTimeoutMs: e.CALLFLOW_REAPER_SWEEP_TIMEOUT_MS,
    policy: reaperPolicyOf(e),
    storage: storageConfigFromEnv(env),
  });
};
