import { z } from "zod";
import { field, parseConfig, type Env } from "@callflow/config";
import { DEFAULT_POLICY, type ReapedStage, type ReaperPolicy, type StageDeadlines } from "./policy.ts";

/** Zero is a meaningful scale ("not scaled by audio"), so it needs its own field. */
const nonNegativeMs = () =>
  z.string().transform((raw, ctx) => {
    const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (Number.isSafeInteger(value)) return value;
    ctx.addIssue({ code: "custom", message: `is not a whole number of milliseconds (0 or more): "${raw}"` });
    return z.NEVER;
  });

const d = DEFAULT_POLICY;
const stageFields = (stage: ReapedStage) => {
  const prefix = `CALLFLOW_REAPER_${stage.toUpperCase()}`;
  const defaults = d.stages[stage];
  return {
    [`${prefix}_QUEUED_MS`]: field.milliseconds().default(defaults.queuedMs),
    [`${prefix}_HEARTBEAT_MS`]: field.milliseconds().default(defaults.heartbeatMs),
    [`${prefix}_MAX_RUN_MS`]: field.milliseconds().default(defaults.maxRunMs),
    [`${prefix}_MAX_RUN_PER_AUDIO_SECOND_MS`]: nonNegativeMs().default(defaults.maxRunPerAudioSecondMs),
    [`${prefix}_MAX_RUN_CAP_MS`]: field.milliseconds().default(defaults.maxRunCapMs),
  } as Record<string, z.ZodType<number>>;
};

/** The deadlines and limits of the sweeps: the reaper's, and the admin API's stuck view and sweeps. */
export const reaperPolicyFields = {
  CALLFLOW_REAPER_MAX_REDRIVES: field.positiveInt().default(d.maxRedrives),
  CALLFLOW_REAPER_REDRIVE_WINDOW_MS: field.milliseconds().default(d.redriveWindowMs),
  ...stageFields("transcription"),
  ...stageFields("merge"),
  ...stageFields("summary"),
  CALLFLOW_REAPER_UNSETTLED_MS: field.milliseconds().default(d.unsettledMs),
  CALLFLOW_REAPER_OUTBOX_STALE_MS: field.milliseconds().default(d.outboxStaleMs),
  CALLFLOW_REAPER_OUTBOX_GIVE_UP_MS: field.milliseconds().default(d.outboxGiveUpMs),
  CALLFLOW_REAPER_DIAL_UNCONFIRMED_MS: field.milliseconds().default(d.dialUnconfirmedMs),
  CALLFLOW_REAPER_RECORDING_FETCH_QUEUED_MS: field.milliseconds().default(d.recordingFetch.queuedMs),
  CALLFLOW_REAPER_RECORDING_FETCH_HEARTBEAT_MS: field.milliseconds().default(d.recordingFetch.heartbeatMs),
  CALLFLOW_REAPER_ABANDONED_UPLOAD_MS: field.milliseconds().default(d.abandonedUploadMs),
  CALLFLOW_REAPER_ABANDONED_UPLOAD_POLICY: field.oneOf(["finish", "fail"]).default(d.abandonedUploadPolicy),
  CALLFLOW_REAPER_ORPHAN_OBJECT_MS: field.milliseconds().default(d.orphanObjectMs),
  CALLFLOW_REAPER_BATCH: field.positiveInt().default(d.batch),
};
const policySchema = z.object(reaperPolicyFields);

/** The policy of configuration parsed with `reaperPolicyFields` (alone, or within a service's own schema). */
export const reaperPolicyOf = (parsed: z.infer<typeof policySchema>): ReaperPolicy => {
  const e = parsed as z.infer<typeof policySchema> & Record<string, number>;
  const stage = (name: ReapedStage): StageDeadlines => {
    const prefix = `CALLFLOW_REAPER_${name.toUpperCase()}`;
    return Object.freeze({
      queuedMs: e[`${prefix}_QUEUED_MS`]!,
      heartbeatMs: e[`${prefix}_HEARTBEAT_MS`]!,
      maxRunMs: e[`${prefix}_MAX_RUN_MS`]!,
      maxRunPerAudioSecondMs: e[`${prefix}_MAX_RUN_PER_AUDIO_SECOND_MS`]!,
      // A cap below the base would make the base a lie: the cap never shortens it.
      maxRunCapMs: Math.max(e[`${prefix}_MAX_RUN_CAP_MS`]!, e[`${prefix}_MAX_RUN_MS`]!),
    });
  };
  return Object.freeze({
    stages: Object.freeze({ transcription: stage("transcription"), merge: stage("merge"), summary: stage("summary") }),
    maxRedrives: e.CALLFLOW_REAPER_MAX_REDRIVES,
    redriveWindowMs: e.CALLFLOW_REAPER_REDRIVE_WINDOW_MS,
    unsettledMs: e.CALLFLOW_REAPER_UNSETTLED_MS,
    outboxStaleMs: e.CALLFLOW_REAPER_OUTBOX_STALE_MS,
    outboxGiveUpMs: e.CALLFLOW_REAPER_OUTBOX_GIVE_UP_MS,
    dialUnconfirmedMs: e.CALLFLOW_REAPER_DIAL_UNCONFIRMED_MS,
    recordingFetch: Object.freeze({ queuedMs: e.CALLFLOW_REAPER_RECORDING_FETCH_QUEUED_MS, heartbeatMs: e.CALLFLOW_REAPER_RECORDING_FETCH_HEARTBEAT_MS }),
    abandonedUploadMs: e.CALLFLOW_REAPER_ABANDONED_UPLOAD_MS,
    abandonedUploadPolicy: e.CALLFLOW_REAPER_ABANDONED_UPLOAD_POLICY,
    orphanObjectMs: e.CALLFLOW_REAPER_ORPHAN_OBJECT_MS,
    batch: e.CALLFLOW_REAPER_BATCH,
  });
};

/** Only the CALLFLOW_REAPER_* deadlines and limits, for a process that sweeps on demand (ingest's admin API). */
export const reaperPolicyFromEnv = (env: Env = process.env): ReaperPolicy => reaperPolicyOf(parseConfig(policySchema, env));
