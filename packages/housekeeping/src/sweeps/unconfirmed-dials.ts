import type { DialStatus } from "@callflow/db";
import { applyInTransaction, type ReaperAction } from "../actions.ts";
import { before } from "../policy.ts";
import type { Sweep } from "./sweep.ts";

interface Candidate {
  id: string;
  tenantId: string;
  status: DialStatus;
  attempt: number;
  heartbeatAt: Date | null;
  since: Date;
}

export const PROVIDER_NO_SID = "provider_no_sid";

/**
 * A dial the dialer began placing (`placing`, or later) that still has no provider call id a minute
 * later never reached the provider: the dialer died or the request was lost. While active it blocks
 * every request with its dedup key, so it is failed, which frees the key. `queued` and `scheduled`
 * dials wait for their time (the dialer's pacing and the call window) and are left alone.
 */
export const failUnconfirmedDials: Sweep<Candidate> = {
  name: "dials",

  find: (run) =>
    run.db.$queryRaw<Candidate[]>`
      SELECT id::text AS id, tenant_id::text AS "tenantId", status::text AS status, attempt, heartbeat_at AS "heartbeatAt",
             GREATEST(created_at, COALESCE(started_at, created_at), COALESCE(heartbeat_at, created_at)) AS since
      FROM dials
      WHERE status IN ('placing', 'placed', 'ringing', 'in_progress') AND provider_call_id IS NULL
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
          { kind: "dial.fail", entityType: "dial", entityId: c.id, tenantId: c.tenantId, reason: errorMessage, before: { status: c.status, attempt: c.attempt }, after: { status: "failed", errorCode: PROVIDER_NO_SID } },
          async (tx, emit) => {
            const { count } = await tx.dial.updateMany({
              where: { id: c.id, status: c.status, attempt: c.attempt, heartbeatAt: c.heartbeatAt, providerCallId: null },
              data: { status: "failed", errorCode: PROVIDER_NO_SID, errorMessage, finishedAt: run.now, updatedAt: run.now },
            });
            if (count !== 1) return false;
            await tx.dialEvent.create({ data: { dialId: c.id, status: "failed", attempt: c.attempt, at: run.now, errorCode: PROVIDER_NO_SID, detail: errorMessage } });
            await emit("dialStatusChanged", { tenantId: c.tenantId, dialId: c.id, status: "failed" });
            return true;
          },
        ),
      );
    }
    return actions;
  },
};
