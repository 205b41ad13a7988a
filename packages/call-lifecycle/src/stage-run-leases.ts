import type { Db } from "@callflow/db";
import type { LeaseStore } from "./stage-lease.ts";

/** The stage run a worker leases for a whole call and audio version. */
export interface StageRunKey {
  callId: string;
  stage: "merge" | "summary";
  audioVersion: number;
}

const MAX_ERROR_MESSAGE = 2_000;

/** Leases on `stage_runs` rows: merge and summary each claim, beat and hand back their stage here. */
export function stageRunLeases(db: Db): LeaseStore<StageRunKey> {
  const held = (key: StageRunKey, attempt: number) => ({
    callId: key.callId,
    stage: key.stage,
    audioVersion: key.audioVersion,
    status: "running" as const,
    attempt,
  });

  return {
    claim: async (key, { now, staleBefore }) => {
      const rows = await db.$queryRaw<{ attempt: number }[]>`
        UPDATE stage_runs
           SET status = 'running', attempt = attempt + 1, started_at = ${now}, heartbeat_at = ${now},
               finished_at = NULL, error_code = NULL, error_message = NULL, updated_at = ${now}
         WHERE call_id = ${key.callId}::uuid AND stage = ${key.stage}::stage AND audio_version = ${key.audioVersion}
           AND (status = 'queued' OR (status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < ${staleBefore})))
        RETURNING attempt`;
      return rows[0]?.attempt ?? null;
    },

    heartbeat: async (key, attempt, now) => {
      const { count } = await db.stageRun.updateMany({ where: held(key, attempt), data: { heartbeatAt: now } });
      return count === 1;
    },

    // No heartbeat on a queued row, as the reaper's re-drive and a reprocess leave it: nobody owns it.
    release: async (key, attempt, error) => {
      await db.stageRun.updateMany({
        where: held(key, attempt),
        data: { status: "queued", heartbeatAt: null, errorCode: error.code, errorMessage: error.message.slice(0, MAX_ERROR_MESSAGE) },
      });
    },
  };
}
