import { z } from "zod";
import { ConfigError, field, parseConfig, type Env, serviceConnection, serviceFields, workerFields } from "@callflow/config";
import { storageConfigFromEnv } from "@callflow/storage";
import { telephonyConfig, telephonyFields } from "@callflow/telephony";

/** Calls per second: a positive number, fractions allowed (0.5 = one call every two seconds). */
const rate = () =>
  z.string().transform((raw, ctx) => {
    const value = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (value > 0) return value;
    ctx.addIssue({ code: "custom", message: "is not a positive number of calls per second", input: raw });
    return z.NEVER;
  });

// Concurrency: placements in flight per replica (each waits on the carrier's REST answer).
// staleAfterMs: a `placing` dial whose heartbeat is older belongs to a dead dialer and is fenced.
const worker = workerFields("DIALER", { opsPort: 9107, concurrency: 4, ackWaitMs: 30_000, maxDeliver: 5, heartbeatMs: 5_000, staleAfterMs: 30_000 });

/** Every variable the dialer reads; the README's configuration table lists them. */
const schema = z.object({
  ...serviceFields({ databasePoolSize: 5 }),
  ...worker.fields,
  ...telephonyFields,
  CALLFLOW_DIALER_CALLS_PER_SECOND: rate().default(1),
  CALLFLOW_DIALER_TENANT_CONCURRENCY: field.positiveInt().default(10),
  CALLFLOW_DIALER_AGING_MS: field.milliseconds().default(60_000),
  CALLFLOW_DIALER_IDLE_POLL_MS: field.milliseconds().default(1_000),
  CALLFLOW_DIALER_RETRY_BASE_MS: field.milliseconds().default(2_000),
  CALLFLOW_DIALER_MAX_PLACEMENT_RETRIES: field.positiveInt().default(5),
  /** Between a busy or unanswered attempt and the next, for dials with `max_attempts` left. */
  CALLFLOW_DIALER_RETRY_SPACING_MS: field.milliseconds().default(10 * 60_000),
  /** Consecutive 5xx/timeouts from the provider account that open its breaker in this replica. */
  CALLFLOW_DIALER_BREAKER_THRESHOLD: field.positiveInt().default(5),
  CALLFLOW_DIALER_BREAKER_HALF_OPEN_MS: field.milliseconds().default(30_000),
  /** How often the reconciler asks the carrier about dials whose callbacks stopped. */
  CALLFLOW_DIALER_RECONCILE_INTERVAL_MS: field.milliseconds().default(30_000),
  CALLFLOW_DIALER_CALLBACK_BASE_URL: field.url({ protocols: ["http", "https"] }).default("http://127.0.0.1:8080"),
  /** Attempts at fetching a placed call's recording before it fails `recording_fetch_failed`. */
  CALLFLOW_DIALER_RECORDING_MAX_ATTEMPTS: field.positiveInt().default(3),
  /** The wait before the second attempt; each later one waits twice as long (10 s, 20 s: three attempts within a minute). */
  CALLFLOW_DIALER_RECORDING_RETRY_MS: field.milliseconds().default(10_000),
  /** A recording larger than this is refused (`recording_too_large`). */
  CALLFLOW_DIALER_RECORDING_MAX_BYTES: field.positiveInt().default(512 * 1024 * 1024),
  /** How long after an answered call ends the reconciler waits for its recording callback before asking the provider. */
  CALLFLOW_DIALER_RECORDING_WAIT_MS: field.milliseconds().default(2 * 60_000),
  CALLFLOW_FFPROBE_PATH: z.string().min(1).default("ffprobe"),
  CALLFLOW_DIALER_PROBE_TIMEOUT_MS: field.milliseconds().default(30_000),
});

export type DialerConfig = ReturnType<typeof dialerConfigFromEnv>;

/** Parsed once at start; throws a ConfigError naming every bad variable. */
export const dialerConfigFromEnv = (env: Env = process.env) => {
  const e = parseConfig(schema, env);
  const settings = worker.settings(e);
  // A placement in flight must not look dead: the carrier's deadline ends it well before it goes stale.
  if (settings.staleAfterMs <= e.CALLFLOW_TWILIO_TIMEOUT_MS) {
    throw new ConfigError([{ variable: "CALLFLOW_DIALER_STALE_AFTER_MS", message: `CALLFLOW_DIALER_STALE_AFTER_MS must exceed CALLFLOW_TWILIO_TIMEOUT_MS (${e.CALLFLOW_TWILIO_TIMEOUT_MS})` }]);
  }
  const webhook = `${e.CALLFLOW_DIALER_CALLBACK_BASE_URL.replace(/\/+$/, "")}/v1/webhooks/twilio`;
  return Object.freeze({
    ...serviceConnection(e),
    ...settings,
    telephony: telephonyConfig(e),
    pacing: Object.freeze({
      callsPerSecond: e.CALLFLOW_DIALER_CALLS_PER_SECOND,
      tenantConcurrency: e.CALLFLOW_DIALER_TENANT_CONCURRENCY,
      agingMs: e.CALLFLOW_DIALER_AGING_MS,
      idlePollMs: e.CALLFLOW_DIALER_IDLE_POLL_MS,
    }),
    reconcileIntervalMs: e.CALLFLOW_DIALER_RECONCILE_INTERVAL_MS,
    retries: Object.freeze({ baseMs: e.CALLFLOW_DIALER_RETRY_BASE_MS, maxPlacementRetries: e.CALLFLOW_DIALER_MAX_PLACEMENT_RETRIES }),
    attemptRetry: Object.freeze({ spacingMs: e.CALLFLOW_DIALER_RETRY_SPACING_MS }),
    breaker: Object.freeze({ threshold: e.CALLFLOW_DIALER_BREAKER_THRESHOLD, halfOpenMs: e.CALLFLOW_DIALER_BREAKER_HALF_OPEN_MS }),
    callbacks: Object.freeze({ statusCallbackUrl: webhook, recordingStatusCallbackUrl: webhook }),
    recordings: Object.freeze({
      maxAttempts: e.CALLFLOW_DIALER_RECORDING_MAX_ATTEMPTS,
      retryMs: e.CALLFLOW_DIALER_RECORDING_RETRY_MS,
      maxBytes: e.CALLFLOW_DIALER_RECORDING_MAX_BYTES,
      waitMs: e.CALLFLOW_DIALER_RECORDING_WAIT_MS,
      probe: Object.freeze({ ffprobe: e.CALLFLOW_FFPROBE_PATH, timeoutMs: e.CALLFLOW_DIALER_PROBE_TIMEOUT_MS }),
    }),
    storage: storageConfigFromEnv(env),
  });
};
