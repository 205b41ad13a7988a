import { completeCallIfDone } from "@callflow/call-lifecycle";
import { applyInTransaction, type ReaperAction } from "../actions.ts";
import { before } from "../policy.ts";
import type { Sweep } from "./sweep.ts";

interface Candidate {
  tenantId: string;
  callId: string;
  audioVersion: number;
  since: Date;
}

/**
 * A processing call whose merge and summary are both settled must have been completed (or failed)
 * by the completion consumer. If it is still processing, the finishing event was lost (dead-lettered,
 * an advisory nobody saw): the reaper takes the same decision the consumer would have, under the
 * same row lock, so a completion that lands meanwhile makes this a no-op.
 */
export const completeSettledCalls: Sweep<Candidate> = {
  name: "uncompleted-calls",

  find: (run) =>
    run.db.$queryRaw<Candidate[]>`
      SELECT k.tenant_id::text AS "tenantId", k.id::text AS "callId", k.audio_version AS "audioVersion", max(s.finished_at) AS since
      FROM calls k JOIN stage_runs s ON s.call_id = k.id AND s.audio_version = k.audio_version AND s.stage IN ('merge', 'summary')
      WHERE k.status = 'processing'
      GROUP BY k.tenant_id, k.id, k.audio_version
      HAVING count(*) FILTER (WHERE s.status IN ('succeeded', 'failed')) = 2
        AND max(s.finished_at) <= ${before(run.now, run.policy.unsettledMs)}
      ORDER BY since LIMIT ${run.policy.batch}`,

  stuck: (c) => ({ stage: "completion", entityType: "call", entityId: c.callId, tenantId: c.tenantId, callId: c.callId, status: "processing", attempt: null, since: c.since, reason: "merge_and_summary_settled" }),

  async reap(run, candidates) {
    const actions: ReaperAction[] = [];
    for (const c of candidates) {
      const reason = `merge and summary settled at ${c.since.toISOString()} but the call was never completed (its finishing event was lost)`;
      actions.push(
        await applyInTransaction(
          run,
          { kind: "call.complete", entityType: "call", entityId: c.callId, tenantId: c.tenantId, reason, before: { status: "processing", audioVersion: c.audioVersion }, after: { status: "completed or failed" } },
          async (tx, emit) => {
            const result = await completeCallIfDone(tx, emit, { callId: c.callId, audioVersion: c.audioVersion, now: run.now });
            return result.outcome === "completed" || result.outcome === "failed";
          },
        ),
      );
    }
    return actions;
  },
};
