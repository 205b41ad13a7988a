import { failCallAtStage } from "@callflow/call-lifecycle";
import { Stage } from "@callflow/contracts";
import { applyInTransaction, redrivesSince, type ReaperAction, type SweepRun } from "../actions.ts";
import { classifyStageRow, decideOverdue, describeOverdue, type Overdue } from "../overdue.ts";
import { before, maxRunMs, redriveWindowFor } from "../policy.ts";
import { overdueStuck, type Sweep } from "./sweep.ts";

interface ChunkRow {
  id: string;
  tenantId: string;
  callId: string;
  chunkIndex: number;
  audioVersion: number;
  status: string;
  attempt: number;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  heartbeatAt: Date | null;
  durationSeconds: number | null;
  providerJobId: string | null;
  callActive: boolean;
  failurePolicy: string;
}

type Candidate = ChunkRow & { overdue: Overdue };

const REDRIVE = "chunk.redrive";

const snapshot = (row: ChunkRow) => ({
  status: row.status,
  attempt: row.attempt,
  startedAt: row.startedAt,
  heartbeatAt: row.heartbeatAt,
  providerJobId: row.providerJobId,
});

/**
 * Transcription work is the chunk rows: `queued` nobody claimed, `running` whose worker stopped
 * beating (or never set started_at), `running` past its audio-scaled limit. A re-drive puts the
 * chunk back to `queued` with attempt + 1 (which also fences a worker that is only slow: its next
 * heartbeat, a CAS on the old attempt, fails and it stops) and re-emits `chunkReady`.
 */
export const reapOverdueChunks: Sweep<Candidate> = {
  name: "transcription",

  async find(run) {
    const d = run.policy.stages.transcription;
    // A cheap superset in SQL (indexed by status); classifyStageRow is the exact verdict.
    const rows = await run.db.$queryRaw<ChunkRow[]>`
      SELECT c.id::text AS id, c.tenant_id::text AS "tenantId", c.call_id::text AS "callId", c.index AS "chunkIndex",
             c.audio_version AS "audioVersion", c.status::text AS status, c.attempt, c.created_at AS "createdAt",
             c.updated_at AS "updatedAt", c.started_at AS "startedAt", c.heartbeat_at AS "heartbeatAt",
             c.duration_seconds AS "durationSeconds", c.provider_job_id AS "providerJobId",
             (k.status IN ('uploading', 'processing') AND k.audio_version = c.audio_version) AS "callActive",
             k.failure_policy::text AS "failurePolicy"
      FROM chunks c JOIN calls k ON k.id = c.call_id
      WHERE (c.status = 'queued' AND GREATEST(c.created_at, c.updated_at) <= ${before(run.now, d.queuedMs)})
         OR (c.status = 'running' AND (
              c.started_at IS NULL
              OR COALESCE(c.heartbeat_at, c.started_at) <= ${before(run.now, d.heartbeatMs)}
              OR c.started_at <= ${before(run.now, d.maxRunMs)}))
      ORDER BY c.updated_at
      LIMIT ${run.policy.batch}`;
    return rows.flatMap((row) => {
      const overdue = classifyStageRow({ ...row, audioSeconds: row.durationSeconds }, d, run.now);
      return overdue ? [{ ...row, overdue }] : [];
    });
  },

  stuck: (c) => overdueStuck("transcription", "chunk", c),

  async reap(run, candidates) {
    const redrives = await redrivesSince(run.db, {
      entityType: "chunk",
      kind: REDRIVE,
      entities: candidates.map((c) => ({ ...c, windowSince: before(run.now, redriveWindowFor(run.policy, run.policy.stages.transcription, c.durationSeconds)) })),
      since: before(run.now, run.policy.redriveWindowMs),
    });
    const actions: ReaperAction[] = [];
    for (const c of candidates) {
      const what = `chunk ${c.chunkIndex} of call ${c.callId}`;
      const decision = decideOverdue(c.overdue, {
        redrives: redrives.get(c.id) ?? 0,
        maxRedrives: run.policy.maxRedrives,
        callActive: c.callActive,
        providerJobId: c.providerJobId,
        what,
      });
      // The compare-and-set: the row exactly as read (status, attempt, heartbeat), or nothing.
      const unchanged = { id: c.id, status: c.status as "queued" | "running", attempt: c.attempt, heartbeatAt: c.heartbeatAt };
      const reason = describeOverdue(c.overdue, run.now);
      if (decision.action === "redrive") {
        const attempt = c.attempt + 1;
        actions.push(
          await applyInTransaction(
            run,
            { kind: REDRIVE, entityType: "chunk", entityId: c.id, tenantId: c.tenantId, reason, before: snapshot(c), after: { status: "queued", attempt } },
            async (tx, emit) => {
              const { count } = await tx.chunk.updateMany({
                where: unchanged,
                data: { status: "queued", attempt, startedAt: null, heartbeatAt: null, updatedAt: run.now },
              });
              if (count !== 1) return false;
              await emit("chunkReady", { tenantId: c.tenantId, callId: c.callId, chunkId: c.id, chunkIndex: c.chunkIndex, attempt });
              await emit("stageRedriven", { tenantId: c.tenantId, callId: c.callId, stage: Stage.TRANSCRIPTION, entityId: c.id, attempt });
              return true;
            },
          ),
        );
        continue;
      }
      const { errorCode, errorMessage } = decision;
      actions.push(
        await applyInTransaction(
          run,
          {
            kind: "chunk.fail",
            entityType: "chunk",
            entityId: c.id,
            tenantId: c.tenantId,
            reason: `${reason}; ${errorMessage}`,
            before: snapshot(c),
            after: { status: "failed", errorCode, maxRunMs: maxRunMs(run.policy.stages.transcription, c.durationSeconds) },
          },
          async (tx, emit) => {
            const { count } = await tx.chunk.updateMany({
              where: unchanged,
              data: { status: "failed", errorCode, errorMessage, finishedAt: run.now, updatedAt: run.now },
            });
            if (count !== 1) return false;
            await emit("chunkFailed", { tenantId: c.tenantId, callId: c.callId, chunkId: c.id, chunkIndex: c.chunkIndex, attempt: c.attempt, errorCode });
            // Policy `fail`: the call fails here with the reaper's code, even if the aggregator is the
            // part that is down (it later finds the call settled and changes nothing). Policy
            // `partial`: the ledger decides from chunkFailed what the transcript can still be.
            if (c.callActive && c.failurePolicy === "fail") {
              await failCallAtStage(tx, emit, { callId: c.callId, audioVersion: c.audioVersion, stage: "transcription", errorCode, errorMessage: `${what}: ${errorMessage}`, now: run.now });
            }
            return true;
          },
        ),
      );
    }
    return actions;
  },
};
