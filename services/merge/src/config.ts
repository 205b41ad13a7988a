import { availableParallelism, tmpdir } from "node:os";
import { z } from "zod";
import { field, parseConfig, type Env, serviceConnection, serviceFields, workerFields } from "@callflow/config";
import { storageConfigFromEnv, type StorageConfig } from "@callflow/storage";
import { OUTPUT_FORMAT_NAMES } from "./audio/output-format.ts";

/** A share given in percent, 0–100; zero allowed (the seconds floor still applies). */
const percent = () =>
  z.string().transform((raw, ctx) => {
    const value = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (value >= 0 && value <= 100) return value;
    ctx.addIssue({ code: "custom", message: "is not a percentage (0-100)", input: raw });
    return z.NEVER;
  });

// Concurrency: merges at once, each an ffmpeg process and a call's chunks on disk. One per core keeps
// every core encoding; one more covers the downloads, upload and commit, which wait rather than compute.
const DEFAULT_MERGE_CONCURRENCY = availableParallelism() + 1;
const worker = workerFields("MERGE", { opsPort: 9104, concurrency: DEFAULT_MERGE_CONCURRENCY, ackWaitMs: 60_000, maxDeliver: 5, heartbeatMs: 10_000, staleAfterMs: 60_000 });

/** Every variable the merge service reads; the README's configuration table lists them. */
const schema = z.object({
  ...serviceFields({ databasePoolSize: 5 }),
  ...worker.fields,
  CALLFLOW_MERGE_OUTPUT_FORMAT: field.oneOf(OUTPUT_FORMAT_NAMES).default("flac"),
  CALLFLOW_MERGE_DURATION_TOLERANCE_SECONDS: field.seconds().default(0.25),
  CALLFLOW_MERGE_DURATION_TOLERANCE_PERCENT: percent().default(1),
  CALLFLOW_MERGE_DELETE_CHUNKS: field.boolean().default(false),
  /** Where a merge downloads its inputs; one temp dir per merge, removed afterwards. */
  CALLFLOW_MERGE_WORK_DIR: z.string().min(1).optional(),
  /** Disk for inputs prefetched while calls arrive (prefetched-inputs.ts); 0 turns prefetching off. */
  CALLFLOW_MERGE_PREFETCH_MAX_MB: field.nonNegativeInt().default(256),
  CALLFLOW_FFMPEG_PATH: z.string().min(1).default("ffmpeg"),
  CALLFLOW_FFPROBE_PATH: z.string().min(1).default("ffprobe"),
  CALLFLOW_AUDIO_TOOL_TIMEOUT_MS: field.milliseconds().default(600_000),
});

export type MergeConfig = ReturnType<typeof mergeConfigFromEnv>;

/** Parsed once at start; throws a ConfigError naming every bad variable. */
export const mergeConfigFromEnv = (env: Env = process.env) => {
  const e = parseConfig(schema, env);
  return Object.freeze({
    ...serviceConnection(e),
    ...worker.settings(e),
    outputFormat: e.CALLFLOW_MERGE_OUTPUT_FORMAT,
    tolerance: Object.freeze({ seconds: e.CALLFLOW_MERGE_DURATION_TOLERANCE_SECONDS, fraction: e.CALLFLOW_MERGE_DURATION_TOLERANCE_PERCENT / 100 }),
    deleteChunks: e.CALLFLOW_MERGE_DELETE_CHUNKS,
    workDir: e.CALLFLOW_MERGE_WORK_DIR ?? tmpdir(),
    prefetchMaxBytes: e.CALLFLOW_MERGE_PREFETCH_MAX_MB * 1024 * 1024,
    tools: Object.freeze({ ffmpeg: e.CALLFLOW_FFMPEG_PATH, ffprobe: e.CALLFLOW_FFPROBE_PATH, timeoutMs: e.CALLFLOW_AUDIO_TOOL_TIMEOUT_MS }),
    storage: storageConfigFromEnv(env),
  });
};
