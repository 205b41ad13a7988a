import { completeCallIfDone } from "@callflow/call-lifecycle";
import type { Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { ack, commitWithEvents, type OutboxRelay, type Outcome } from "@callflow/messaging";
import type { Logger } from "@callflow/telemetry";

/**
 * Whether completing the call could change anything now: false only when it is processing and merge
 * or summary of its audio version is still open (neither failed). Read without a lock or a transaction:
 * whichever of the two stages commits last announces itself after its commit, so its event always
 * reads both settled and takes the locked path, which alone completes (as the ledger's first look does).
 */
const mayComplete = async (db: Db, callId: string): Promise<boolean> => {
  const call = await db.call.findUnique({
    where: { id: callId },
    select: { status: true, audioVersion: true, stages: { where: { stage: { in: ["merge", "summary"] } }, select: { stage: true, status: true, audioVersion: true } } },
  });
  if (!call || call.status !== "processing") return true;
  const current = call.stages.filter((run) => run.audioVersion === call.audioVersion);
  if (current.some((run) => run.status === "failed")) return true;
  return (["merge", "summary"] as const).every((stage) => current.some((run) => run.stage === stage && run.status === "succeeded"));
};

/**
 * The second fan-in of a call: merge and summary each announce that their artifact is stored; the
 * one that finds the other's stage already succeeded completes the call (under the call's row lock,
 * so exactly one of them does, and a duplicate finds the call completed). The first of the two only
 * looks, without opening a transaction.
 */
export const createCompleteOnFinish =
  (deps: {
    db: Db;
    topology: Topology;
    relay?: Pick<OutboxRelay, "publishNow">;
    logger: Logger;
    now?: () => Date;
    /** Observes seconds from a call's creation to its completion. */
    endToEnd?: { observe(seconds: number): void };
  }) =>
  async (event: { tenantId: string; callId: string }): Promise<Outcome> => {
    if (!(await mayComplete(deps.db, event.callId))) return ack();
    const now = (deps.now ?? (() => new Date()))();
    const result = await commitWithEvents(deps.db, deps.topology, (tx, emit) => completeCallIfDone(tx, emit, { callId: event.callId, now }), deps.relay);
    if (result.outcome === "completed") {
      deps.logger.info({ callId: event.callId, tenantId: event.tenantId }, "call completed");
      if (deps.endToEnd) {
        const call = await deps.db.call.findUnique({ where: { id: event.callId }, select: { createdAt: true } });
        if (call) deps.endToEnd.observe(Math.max(0, now.getTime() - call.createdAt.getTime()) / 1000);
      }
    }
    if (result.outcome === "failed") deps.logger.warn({ callId: event.callId, tenantId: event.tenantId, stage: result.stage }, "call failed: a stage it needs had failed");
    return ack();
  };
