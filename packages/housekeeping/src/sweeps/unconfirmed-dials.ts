import { applyInTransaction, type ReaperAction } from "../actions.ts";
import { before } from "../policy.ts";
import type { Sweep } from "./sweep.ts";

interface Candidate {
  id: string;
  tenantId: string;
  status: string;
  attempt: number;
  heartbeatAt: Date | null;
  since: Date;
}

export const DIAL_NOT_PLACED = "dial_not_placed";

/**
 * A dial that left `queued` (the dialer took it) but has no provider call id a minute later never
 * reached the provider: the dialer died or the request was lost. While active it blocks every
 * request with its dedup key, so it is failed, which frees the key. `queued` dials are the dialer's
 * pacing to schedule and are left alone.
 */
export const failUnconfirmedDials: Sweep<Candidate> = {
  name: "dials",

  find: (run) =>
    run.db.$queryRaw<Candidate[]>`
      SELECT id::text AS id, tenant_id::text AS "tenantId", status::text AS status, attempt, heartbeat_at AS "heartbeatAt",
             GREATEST(created_at, COALESCE(started_at, created_at), COALESCE(heartbeat_at, created_at)) AS since
      FROM dials
      WHERE status IN ('dialing', 'ringing', 'in_progress') AND provider_call_id IS NULL
        AND GREATEST(created_at, COALESCE(started_at, created_at), COALESCE(heartbeat_at, created_at)) <= ${before(run.now, run.policy.dialUnconfirmedMs)}
      ORDER BY created_at LIMIT ${run.policy.batch}`,

  stuck: (c) => ({ stage: "dial", entityType: "dial", entityId: c.id, tenantId: c.tenantId, callId: null, status: c.status, attempt: c.attempt, since: c.since, reason: "no_provider_call_id" }),

  async reap(run, candidates) {
    const actions: ReaperAction[] = [];
    for (const c of candidates) {
      const errorMessage = `the dial has had no provider call id since ${c.since.toISOString()} (${c.status})`;
      actions.push(
        await applyInTransaction(
          run,
          { kind: "dial.fail", entityType: "dial", entityId: c.id, tenantId: c.tenantId, reason: errorMessage, before: { status: c.status, attempt: c.attempt }, after: { status: "failed", errorCode: DIAL_NOT_PLACED } },
          async (tx, emit) => {
            const { count } = await tx.dial.updateMany({
              where: { id: c.id, status: c.status as "dialing", attempt: c.attempt, heartbeatAt: c.heartbeatAt, providerCallId: null },
              data: { status: "failed", errorCode: DIAL_NOT_PLACED, errorMessage, finishedAt: run.now, updatedAt: run.now },
            });
            if (count !== 1) return false;
            await emit("dialStatusChanged", { tenantId: c.tenantId, dialId: c.id, status: "failed" });
            return true;
          },
        ),
      );
    }
    return actions;
  },
};
