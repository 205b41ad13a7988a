import { z } from "zod";
import { DEFAULT_NAMESPACE } from "@callflow/contracts";
import { field } from "./fields.ts";

/** The variables every Callflow service reads, with defaults that run against the local services. */
export const serviceFields = (defaults: { databasePoolSize: number }) => ({
  CALLFLOW_DATABASE_URL: field.url({ protocols: ["postgres", "postgresql"] }).default("postgresql://postgres@127.0.0.1:5432/callflow"),
  CALLFLOW_DATABASE_POOL_SIZE: field.positiveInt().default(defaults.databasePoolSize),
  /** How long a starting service waits for an unreachable Postgres before it exits. */
  CALLFLOW_DATABASE_WAIT_MS: field.milliseconds().default(180_000),
  CALLFLOW_NATS_URL: field.url({ protocols: ["nats", "tls"] }).default("nats://127.0.0.1:4222"),
  CALLFLOW_NAMESPACE: z.string().regex(/^[a-z][a-z0-9_]{0,30}$/, "is not a namespace (a-z, 0-9, _)").default(DEFAULT_NAMESPACE),
  CALLFLOW_LOG_LEVEL: field.oneOf(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

/** Where a service finds Postgres and NATS, and how it logs. */
export interface ServiceConnection {
  readonly databaseUrl: string;
  readonly databasePoolSize: number;
  /** Start-up wait for an unreachable Postgres; unset (a hand-built config) means the default, 3 minutes. */
  readonly databaseWaitMs?: number;
  readonly natsUrl: string;
  readonly namespace: string;
  readonly logLevel: string;
}

export const serviceConnection = (e: z.output<z.ZodObject<ReturnType<typeof serviceFields>>>): ServiceConnection => ({
  databaseUrl: e.CALLFLOW_DATABASE_URL,
  databasePoolSize: e.CALLFLOW_DATABASE_POOL_SIZE,
  databaseWaitMs: e.CALLFLOW_DATABASE_WAIT_MS,
  natsUrl: e.CALLFLOW_NATS_URL,
  namespace: e.CALLFLOW_NAMESPACE,
  logLevel: e.CALLFLOW_LOG_LEVEL,
});
