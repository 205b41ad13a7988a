import { tmpdir } from "node:os";
import { z } from "zod";
import { field, parseConfig, type Env, serviceConnection, serviceFields, type ServiceConnection } from "@callflow/config";
import { storageConfigFromEnv, type StorageConfig } from "@callflow/storage";
import { OUTPUT_FORMAT_NAMES, type OutputFormatName } from "./audio/output-format.ts";

/** A share given in percent, 0–100; zero allowed (the seconds floor still applies). */
const percent = () =>
  z.string().transform((raw, ctx) => {
    const value = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (value >= 0 && value <= 100) return value;
    ctx.addIssue({ code: "custom", message: "is not a percentage (0-100)", input: raw });
    return z.NEVER;
  });

/** Every variable the merge service reads; the README's configuration table lists them. */
const schema = z.object({
  ...serviceFields({ databasePoolSize: 5 }),
  CALLFLOW_MERGE_OPS_PORT: field.port().default(9104),
  /** Merges at once: each is an ffmpeg process and a call's chunks on disk. */
  CALLFLOW_MERGE_CONCURRENCY: field.positiveInt().default(2),
  CALLFLOW_MERGE_ACK_WAIT_MS: field.milliseconds().default(60_000),
  CALLFLOW_MERGE_MAX_DELIVER: field.positiveInt().default(5),
  CALLFLOW_MERGE_HEARTBEAT_MS: field.milliseconds().default(10_000),
  CALLFLOW_MERGE_STALE_AFTER_MS: field.milliseconds().default(60_000),
  CALLFLOW_MERGE_OUTPUT_FORMAT: field.oneOf(OUTPUT_FORMAT_NAMES).default("flac"),
  CALLFLOW_MERGE_DURATION_TOLERANCE_SECONDS: field.seconds().default(0.25),
  CALLFLOW_MERGE_DURATION_TOLERANCE_PERCENT: percent().default(1),
  CALLFLOW_MERGE_DELETE_CHUNKS: field.boolean().default(false),
  /** Where a merge downloads its inputs; one temp dir per merge, removed afterwards. */
  CALLFLOW_MERGE_WORK_DIR: z.string().min(1).optional(),
  CALLFLOW_FFMPEG_PATH: z.string().min(1).default("ffmpeg"),
  CALLFLOW_FFPROBE_PATH: z.string().min(1).default("ffprobe"),
  CALLFLOW_AUDIO_TOOL_TIMEOUT_MS: field.milliseconds().default(600_000),
});

export interface MergeConfig extends ServiceConnection {
  /** 0 picks a free port (tests). */
  readonly opsPort: number;
  readonly concurrency: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly heartbeatMs: number;
  readonly staleAfterMs: number;
  readonly outputFormat: OutputFormatName;
  readonly tolerance: { readonly seconds: number; readonly fraction: number };
  readonly deleteChunks: boolean;
  readonly workDir: string;
  readonly tools: { readonly ffmpeg: string; readonly ffprobe: string; readonly timeoutMs: number };
  readonly storage: StorageConfig;
}

/** Parsed once at start; throws a ConfigError naming every bad variable. */
export const mergeConfigFromEnv = (env: Env = process.env): MergeConfig => {
  const e = parseConfig(schema, env);
  return Object.freeze({
    ...serviceConnection(e),
    opsPort: e.CALLFLOW_MERGE_OPS_PORT,
    concurrency: e.CALLFLOW_MERGE_CONCURRENCY,
    ackWaitMs: e.CALLFLOW_MERGE_ACK_WAIT_MS,
    maxDeliver: e.CALLFLOW_MERGE_MAX_DELIVER,
    heartbeatMs: e.CALLFLOW_MERGE_HEARTBEAT_MS,
    staleAfterMs: e.CALLFLOW_MERGE_STALE_AFTER_MS,
    outputFormat: e.CALLFLOW_MERGE_OUTPUT_FORMAT,
    tolerance: Object.freeze({ seconds: e.CALLFLOW_MERGE_DURATION_TOLERANCE_SECONDS, fraction: e.CALLFLOW_MERGE_DURATION_TOLERANCE_PERCENT / 100 }),
    deleteChunks: e.CALLFLOW_MERGE_DELETE_CHUNKS,
    workDir: e.CALLFLOW_MERGE_WORK_DIR ?? tmpdir(),
    tools: Object.freeze({ ffmpeg: e.CALLFLOW_FFMPEG_PATH, ffprobe: e.CALLFLOW_FFPROBE_PATH, timeoutMs: e.CALLFLOW_AUDIO_TOOL_TIMEOUT_MS }),
    storage: storageConfigFromEnv(env),
  });
};
