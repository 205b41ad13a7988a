import { failCallAtStage, lockCall, stageEnum } from "@callflow/call-lifecycle";
import { applyInTransaction, redrivesSince, type ReaperAction } from "../actions.ts";
import { classifyStageRow, decideOverdue, describeOverdue, type Overdue } from "../overdue.ts";
import { before, redriveWindowFor } from "../policy.ts";
import { overdueStuck, type Sweep } from "./sweep.ts";

interface StageRunRow {
  id: string;
  tenantId: string;
  callId: string;
  stage: "merge" | "summary";
  audioVersion: number;
  status: string;
  attempt: number;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  heartbeatAt: Date | null;
  audioSeconds: number | null;
  callActive: boolean;
  transcriptId: string | null;
  partial: boolean | null;
}

type Candidate = StageRunRow & { overdue: Overdue };

const REDRIVE = "stage.redrive";

const snapshot = (row: StageRunRow) => ({ stage: row.stage, status: row.status, attempt: row.attempt, startedAt: row.startedAt, heartbeatAt: row.heartbeatAt });

/**
 * Merge and summary own a stage run each, both started by `callTranscribed`. A re-drive re-emits
 * that event: both consumers are idempotent, so the stage that is done ignores it. The stage run
 * goes back to `queued` with attempt + 1 in the same compare-and-set.
 */
export const reapOverdueStageRuns: Sweep<Candidate> = {
  name: "stage-runs",

  async find(run) {
    const { merge, summary } = run.policy.stages;
    const rows = await run.db.$queryRaw<StageRunRow[]>`
      SELECT s.id::text AS id, s.tenant_id::text AS "tenantId", s.call_id::text AS "callId", s.stage::text AS stage,
             s.audio_version AS "audioVersion", s.status::text AS status, s.attempt, s.created_at AS "createdAt",
             s.updated_at AS "updatedAt", s.started_at AS "startedAt", s.heartbeat_at AS "heartbeatAt",
             k.duration_seconds AS "audioSeconds",
             -- A summary re-run (POST /v1/calls/{id}/summary/retry) leaves a completed call completed: its stage still has an owner.
             (k.status IN ('processing', 'completed') AND k.audio_version = s.audio_version) AS "callActive",
             t.id::text AS "transcriptId", t.partial
      FROM stage_runs s
      JOIN calls k ON k.id = s.call_id
      LEFT JOIN transcripts t ON t.call_id = s.call_id AND t.audio_version = s.audio_version
      WHERE s.stage IN ('merge', 'summary') AND (
            (s.status = 'queued' AND GREATEST(s.created_at, s.updated_at) <= ${before(run.now, Math.min(merge.queuedMs, summary.queuedMs))})
         OR (s.status = 'running' AND (
              s.started_at IS NULL
              OR COALESCE(s.heartbeat_at, s.started_at) <= ${before(run.now, Math.min(merge.heartbeatMs, summary.heartbeatMs))}
              OR s.started_at <= ${before(run.now, Math.min(merge.maxRunMs, summary.maxRunMs))})))
      ORDER BY s.updated_at
      LIMIT ${run.policy.batch}`;
    return rows.flatMap((row) => {
      const overdue = classifyStageRow(row, run.policy.stages[row.stage], run.now);
      return overdue ? [{ ...row, overdue }] : [];
    });
  },

  stuck: (c) => overdueStuck(c.stage, "stage_run", c),

  async reap(run, candidates) {
    const redrives = await redrivesSince(run.db, {
      entityType: "stage_run",
      kind: REDRIVE,
      entities: candidates.map((c) => ({ ...c, windowSince: before(run.now, redriveWindowFor(run.policy, run.policy.stages[c.stage], c.audioSeconds)) })),
      since: before(run.now, run.policy.redriveWindowMs),
    });
    const actions: ReaperAction[] = [];
    for (const c of candidates) {
      const what = `the ${c.stage} of call ${c.callId}`;
      const decision =
        c.transcriptId === null && c.callActive
          ? ({ action: "fail", errorCode: "transcript_missing", errorMessage: `${what} cannot be re-driven: the call has no transcript for audio version ${c.audioVersion}` } as const)
          : decideOverdue(c.overdue, { redrives: redrives.get(c.id) ?? 0, maxRedrives: run.policy.maxRedrives, callActive: c.callActive, what });
      const unchanged = { id: c.id, status: c.status as "queued" | "running", attempt: c.attempt, heartbeatAt: c.heartbeatAt };
      const reason = describeOverdue(c.overdue, run.now);
      const base = { entityType: "stage_run", entityId: c.id, tenantId: c.tenantId, before: snapshot(c) };

      if (decision.action === "redrive") {
        const attempt = c.attempt + 1;
        actions.push(
          await applyInTransaction(run, { ...base, kind: REDRIVE, reason, after: { status: "queued", attempt } }, async (tx, emit) => {
            const { count } = await tx.stageRun.updateMany({ where: unchanged, data: { status: "queued", attempt, startedAt: null, heartbeatAt: null, updatedAt: run.now } });
            if (count !== 1) return false;
            await emit("callTranscribed", { tenantId: c.tenantId, callId: c.callId, transcriptId: c.transcriptId!, partial: c.partial ?? false, audioVersion: c.audioVersion });
            await emit("stageRedriven", { tenantId: c.tenantId, callId: c.callId, stage: stageEnum[c.stage], entityId: c.id, attempt });
            return true;
          }),
        );
        continue;
      }
      const { errorCode, errorMessage } = decision;
      actions.push(
        await applyInTransaction(run, { ...base, kind: "stage.fail", reason: `${reason}; ${errorMessage}`, after: { status: "failed", errorCode } }, async (tx, emit) => {
          // The call's lock before the stage row's, in the order the workers take them (no deadlock).
          await lockCall(tx, c.callId);
          const { count } = await tx.stageRun.updateMany({ where: unchanged, data: { status: "failed", errorCode, errorMessage, finishedAt: run.now, updatedAt: run.now } });
          if (count !== 1) return false;
          if (c.callActive) await failCallAtStage(tx, emit, { callId: c.callId, audioVersion: c.audioVersion, stage: c.stage, errorCode, errorMessage, now: run.now });
          return true;
        }),
      );
    }
    return actions;
  },
};
