import type { StageStatus } from "@callflow/db";
import { applyInTransaction, redrivesSince, type ReaperAction } from "../actions.ts";
import { before } from "../policy.ts";
import type { Sweep } from "./sweep.ts";

interface Candidate {
  dialId: string;
  tenantId: string;
  callId: string;
  status: StageStatus;
  attempt: number;
  maxAttempts: number;
  heartbeatAt: Date | null;
  since: Date;
  /** `no_worker`: queued past its pickup deadline; `worker_died`: running with no heartbeat since its deadline. */
  reason: "no_worker" | "worker_died";
}

const REDRIVE = "recording_fetch.redrive";
export const WORKER_NOT_PROCESSING_QUEUE = "worker_not_processing_queue";
const RECORDING_FETCH_FAILED = "recording_fetch_failed";

/**
 * A placed call's recording fetch (`recording_fetches`, the dialer's job) past its deadline, judged as
 * every stage is (started_at, heartbeat_at): queued with no worker taking it — its event is sent again,
 * at most `maxRedrives` times within the re-drive window, then it fails `worker_not_processing_queue`;
 * running with a silent heartbeat — the worker died, and the fetch goes back to `queued` for its next
 * attempt, or fails `recording_fetch_failed` after its last. The recording endpoints answer either code.
 */
export const reapOverdueRecordingFetches: Sweep<Candidate> = {
  name: "recording-fetches",

  find: (run) =>
    run.db.$queryRaw<Candidate[]>`
      SELECT dial_id::text AS "dialId", tenant_id::text AS "tenantId", call_id::text AS "callId", status::text AS status,
             attempt, max_attempts AS "maxAttempts", heartbeat_at AS "heartbeatAt",
             CASE WHEN status = 'queued' THEN updated_at ELSE COALESCE(heartbeat_at, started_at, updated_at) END AS since,
             CASE WHEN status = 'queued' THEN 'no_worker' ELSE 'worker_died' END AS reason
        FROM recording_fetches
       WHERE (status = 'queued' AND updated_at <= ${before(run.now, run.policy.recordingFetch.queuedMs)})
          OR (status = 'running' AND COALESCE(heartbeat_at, started_at, updated_at) <= ${before(run.now, run.policy.recordingFetch.heartbeatMs)})
       ORDER BY updated_at
       LIMIT ${run.policy.batch}`,

  stuck: (c) => ({
    stage: "recording_fetch",
    entityType: "recording_fetch",
    entityId: c.dialId,
    tenantId: c.tenantId,
    callId: null,
    status: c.status,
    attempt: c.attempt,
    since: c.since,
    reason: c.reason,
  }),

  async reap(run, candidates) {
    const redrives = await redrivesSince(run.db, {
      entityType: "recording_fetch",
      kind: REDRIVE,
      entities: candidates.map((c) => ({ id: c.dialId, callId: c.callId })),
      since: before(run.now, run.policy.redriveWindowMs),
    });
    const actions: ReaperAction[] = [];
    for (const c of candidates) {
      const base = { entityType: "recording_fetch", entityId: c.dialId, tenantId: c.tenantId, before: { status: c.status, attempt: c.attempt, heartbeatAt: c.heartbeatAt } };
      const unchanged = { dialId: c.dialId, status: c.status, attempt: c.attempt, heartbeatAt: c.heartbeatAt };
      const giveUp = c.reason === "no_worker" ? (redrives.get(c.dialId) ?? 0) >= run.policy.maxRedrives : c.attempt >= c.maxAttempts;
      if (!giveUp) {
        const reason =
          c.reason === "no_worker"
            ? `no worker took the recording fetch of dial ${c.dialId} since ${c.since.toISOString()}: its job is sent again`
            : `the worker fetching dial ${c.dialId}'s recording (attempt ${c.attempt}/${c.maxAttempts}) has been silent since ${c.since.toISOString()}`;
        actions.push(
          await applyInTransaction(run, { ...base, kind: REDRIVE, reason, after: { status: "queued", attempt: c.attempt } }, async (tx, emit) => {
            const { count } = await tx.recordingFetch.updateMany({ where: unchanged, data: { status: "queued", startedAt: null, heartbeatAt: null, updatedAt: run.now } });
            if (count !== 1) return false;
            await emit("dialRecordingFetchRequested", { tenantId: c.tenantId, dialId: c.dialId });
            return true;
          }),
        );
        continue;
      }
      const errorCode = c.reason === "no_worker" ? WORKER_NOT_PROCESSING_QUEUE : RECORDING_FETCH_FAILED;
      const errorMessage =
        c.reason === "no_worker"
          ? `no worker took the recording fetch of dial ${c.dialId} after ${run.policy.maxRedrives} re-drives`
          : `the recording fetch of dial ${c.dialId} lost its worker in its last attempt (${c.attempt}/${c.maxAttempts})`;
      actions.push(
        await applyInTransaction(run, { ...base, kind: "recording_fetch.fail", reason: errorMessage, after: { status: "failed", errorCode } }, async (tx) => {
          const { count } = await tx.recordingFetch.updateMany({ where: unchanged, data: { status: "failed", errorCode, errorMessage, finishedAt: run.now, updatedAt: run.now } });
          return count === 1;
        }),
      );
    }
    return actions;
  },
};
