import { failCallAtStage } from "@callflow/call-lifecycle";
import { applyInTransaction, redrivesSince, type ReaperAction } from "../actions.ts";
import { WORKER_NOT_PROCESSING_QUEUE } from "../overdue.ts";
import { before, ledgerRedriveWindowMs } from "../policy.ts";
import type { Sweep } from "./sweep.ts";

interface Candidate {
  id: string;
  tenantId: string;
  callId: string;
  audioVersion: number;
  status: string;
  attempt: number;
  since: Date;
  expectedChunkCount: number | null;
}

const REDRIVE = "transcription.redrive";

/**
 * A finished upload whose chunks are all terminal must have been settled by the aggregator. If its
 * transcription stage run is still open, the ledger event was lost (an advisory nobody saw, a dead
 * letter): the reaper emits `callUploadFinished` again so the aggregator looks once more, and after
 * N looks that changed nothing, fails the call.
 */
export const reapUnsettledTranscriptions: Sweep<Candidate> = {
  name: "unsettled-transcription",

  async find(run) {
    const settledBefore = before(run.now, run.policy.unsettledMs);
    return run.db.$queryRaw<Candidate[]>`
      SELECT s.id::text AS id, s.tenant_id::text AS "tenantId", s.call_id::text AS "callId", s.audio_version AS "audioVersion",
             s.status::text AS status, s.attempt, GREATEST(s.updated_at, k.upload_finished_at) AS since,
             k.expected_chunk_count AS "expectedChunkCount"
      FROM stage_runs s JOIN calls k ON k.id = s.call_id AND k.audio_version = s.audio_version
      WHERE s.stage = 'transcription' AND s.status IN ('queued', 'running')
        AND k.status = 'processing' AND k.upload_finished_at IS NOT NULL
        AND GREATEST(s.updated_at, k.upload_finished_at) <= ${settledBefore}
        AND NOT EXISTS (
          SELECT 1 FROM chunks c WHERE c.call_id = k.id AND c.audio_version = k.audio_version
            AND (c.status IN ('uploading', 'queued', 'running') OR c.updated_at > ${settledBefore}))
      ORDER BY s.updated_at
      LIMIT ${run.policy.batch}`;
  },

  stuck: (c) => ({
    stage: "transcription",
    entityType: "stage_run",
    entityId: c.id,
    tenantId: c.tenantId,
    callId: c.callId,
    status: c.status,
    attempt: c.attempt,
    since: c.since,
    reason: "unsettled",
  }),

  async reap(run, candidates) {
    const redrives = await redrivesSince(run.db, { entityType: "stage_run", kind: REDRIVE, entities: candidates, since: before(run.now, ledgerRedriveWindowMs(run.policy)) });
    const actions: ReaperAction[] = [];
    for (const c of candidates) {
      const done = redrives.get(c.id) ?? 0;
      const unchanged = { id: c.id, status: c.status as "queued" | "running", attempt: c.attempt };
      const reason = `every chunk is terminal but the call has not been settled since ${c.since.toISOString()}`;
      const base = { entityType: "stage_run", entityId: c.id, tenantId: c.tenantId, before: { stage: "transcription", status: c.status, attempt: c.attempt } };
      if (done < run.policy.maxRedrives) {
        actions.push(
          await applyInTransaction(run, { ...base, kind: REDRIVE, reason, after: { attempt: c.attempt + 1, emitted: "callUploadFinished" } }, async (tx, emit) => {
            const { count } = await tx.stageRun.updateMany({ where: unchanged, data: { attempt: c.attempt + 1, updatedAt: run.now } });
            if (count !== 1) return false;
            await emit("callUploadFinished", { tenantId: c.tenantId, callId: c.callId, chunkCount: c.expectedChunkCount ?? 0 });
            return true;
          }),
        );
        continue;
      }
      const errorMessage = `the completeness ledger did not settle call ${c.callId} after ${done} re-drives of its ledger event`;
      actions.push(
        await applyInTransaction(
          run,
          { ...base, kind: "transcription.fail", reason: `${reason}; ${errorMessage}`, after: { status: "failed", errorCode: WORKER_NOT_PROCESSING_QUEUE } },
          async (tx, emit) => {
            const { count } = await tx.stageRun.updateMany({ where: unchanged, data: { status: "failed", errorCode: WORKER_NOT_PROCESSING_QUEUE, errorMessage, finishedAt: run.now, updatedAt: run.now } });
            if (count !== 1) return false;
            await failCallAtStage(tx, emit, { callId: c.callId, audioVersion: c.audioVersion, stage: "transcription", errorCode: WORKER_NOT_PROCESSING_QUEUE, errorMessage, now: run.now });
            return true;
          },
        ),
      );
    }
    return actions;
  },
};
