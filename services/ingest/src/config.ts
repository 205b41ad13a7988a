import { z } from "zod";
import { reaperPolicyFromEnv } from "@callflow/housekeeping";
import { field, parseConfig, type Env, serviceConnection, serviceFields } from "@callflow/config";
import { storageConfigFromEnv } from "@callflow/storage";

const GiB = 1024 * 1024 * 1024;

/** Every variable the ingest service reads; the README's configuration table lists them. */
const schema = z.object({
  ...serviceFields({ databasePoolSize: 10 }),
  CALLFLOW_INGEST_HOST: z.string().min(1).default("0.0.0.0"),
  /** 0 picks a free port (tests). */
  CALLFLOW_INGEST_PORT: field.port().default(8080),
  /** The URL clients and providers reach this API at; Twilio signs it, tus Location headers use it. */
  CALLFLOW_INGEST_PUBLIC_URL: field.url({ protocols: ["http", "https"] }).optional(),
  CALLFLOW_INGEST_MAX_UPLOAD_BYTES: field.positiveInt().default(4 * GiB),
  CALLFLOW_INGEST_RATE_LIMIT_PER_MINUTE: field.positiveInt().default(1200),
  /** How long a looked-up API key is trusted before Postgres is asked again (revocation latency). */
  CALLFLOW_INGEST_API_KEY_CACHE_MS: field.milliseconds().default(5_000),
  /** Where tus uploads are staged; default a directory under the OS temp dir. */
  CALLFLOW_INGEST_TUS_DIR: z.string().min(1).optional(),
  CALLFLOW_INGEST_TUS_MAX_STAGED_BYTES: field.positiveInt().default(20 * GiB),
  CALLFLOW_INGEST_TUS_EXPIRY_MS: field.milliseconds().default(24 * 3600 * 1000),
  CALLFLOW_INGEST_PROBE_TIMEOUT_MS: field.milliseconds().default(60_000),
  CALLFLOW_INGEST_TRIM_TIMEOUT_MS: field.milliseconds().default(600_000),
  CALLFLOW_INGEST_SSE_POLL_MS: field.milliseconds().default(1_000),
  /** Recordings answered with a redirect to a presigned URL instead of streamed through the API. */
  CALLFLOW_INGEST_RECORDING_REDIRECT: field.boolean().default(false),
  /** S3 multipart part size (S3's minimum is 5 MiB) and parts in flight per upload. */
  CALLFLOW_INGEST_UPLOAD_PART_BYTES: field.positiveInt().default(5 * 1024 * 1024),
  CALLFLOW_INGEST_UPLOAD_PARTS_IN_FLIGHT: field.positiveInt().default(1),
  /** The operator console's built assets, served at /console; default packages/console/dist (`pnpm build`). */
  CALLFLOW_INGEST_CONSOLE_DIR: z.string().min(1).optional(),
  CALLFLOW_FFPROBE_PATH: z.string().min(1).default("ffprobe"),
  CALLFLOW_FFMPEG_PATH: z.string().min(1).default("ffmpeg"),
  CALLFLOW_TWILIO_AUTH_TOKEN: field.optionalSecret(),
  CALLFLOW_ASSEMBLYAI_WEBHOOK_HEADER: z.string().min(1).default("x-callflow-webhook-token"),
  CALLFLOW_ASSEMBLYAI_WEBHOOK_SECRET: field.optionalSecret(),
  CALLFLOW_NOTIFY_TIMEOUT_MS: field.milliseconds().default(10_000),
  CALLFLOW_NOTIFY_MAX_ATTEMPTS: field.positiveInt().default(8),
  /** First retry delay; doubles per attempt up to 10 minutes. */
  CALLFLOW_NOTIFY_RETRY_BASE_MS: field.milliseconds().default(5_000),
});

export type IngestConfig = ReturnType<typeof ingestConfigFromEnv>;

/** Parsed once at start; throws a ConfigError naming every bad variable. */
export const ingestConfigFromEnv = (env: Env = process.env) => {
  const e = parseConfig(schema, env);
  return Object.freeze({
    ...serviceConnection(e),
    host: e.CALLFLOW_INGEST_HOST,
    port: e.CALLFLOW_INGEST_PORT,
    publicUrl: e.CALLFLOW_INGEST_PUBLIC_URL?.replace(/\/+$/, ""),
    maxUploadBytes: e.CALLFLOW_INGEST_MAX_UPLOAD_BYTES,
    rateLimitPerMinute: e.CALLFLOW_INGEST_RATE_LIMIT_PER_MINUTE,
    apiKeyCacheMs: e.CALLFLOW_INGEST_API_KEY_CACHE_MS,
    tusDirectory: e.CALLFLOW_INGEST_TUS_DIR,
    tusMaxStagedBytes: e.CALLFLOW_INGEST_TUS_MAX_STAGED_BYTES,
    tusExpiryMs: e.CALLFLOW_INGEST_TUS_EXPIRY_MS,
    probeTimeoutMs: e.CALLFLOW_INGEST_PROBE_TIMEOUT_MS,
    trimTimeoutMs: e.CALLFLOW_INGEST_TRIM_TIMEOUT_MS,
    ssePollMs: e.CALLFLOW_INGEST_SSE_POLL_MS,
    recordingRedirect: e.CALLFLOW_INGEST_RECORDING_REDIRECT,
    uploadPartBytes: e.CALLFLOW_INGEST_UPLOAD_PART_BYTES,
    uploadPartsInFlight: e.CALLFLOW_INGEST_UPLOAD_PARTS_IN_FLIGHT,
    consoleDirectory: e.CALLFLOW_INGEST_CONSOLE_DIR,
    ffprobePath: e.CALLFLOW_FFPROBE_PATH,
    ffmpegPath: e.CALLFLOW_FFMPEG_PATH,
    twilioAuthToken: e.CALLFLOW_TWILIO_AUTH_TOKEN,
    assemblyAiWebhookHeader: e.CALLFLOW_ASSEMBLYAI_WEBHOOK_HEADER.toLowerCase(),
    assemblyAiWebhookSecret: e.CALLFLOW_ASSEMBLYAI_WEBHOOK_SECRET,
    notifyTimeoutMs: e.CALLFLOW_NOTIFY_TIMEOUT_MS,
    notifyMaxAttempts: e.CALLFLOW_NOTIFY_MAX_ATTEMPTS,
    notifyRetryBaseMs: e.CALLFLOW_NOTIFY_RETRY_BASE_MS,
    storage: storageConfigFromEnv(env),
    /** The reaper's deadlines, for the admin stuck view and on-demand sweeps (the CALLFLOW_REAPER_* variables). */
    reaperPolicy: reaperPolicyFromEnv(env),
  });
};
