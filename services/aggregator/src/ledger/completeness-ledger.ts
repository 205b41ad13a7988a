import type { Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { commitWithEvents, systemClock, type Clock, type OutboxRelay } from "@callflow/messaging";
import { evaluateCompleteness } from "./completeness.ts";
import { isSettled, readLedgerIn, type LedgerReader } from "./read-ledger.ts";
import { settleCall, type Settlement } from "./settle-call.ts";

/** The completeness ledger: looks at a call after any of its chunk or upload events. */
export interface CompletenessLedger {
  /** Settles the call if every chunk is in; the verdict and its event commit together. */
  settle(callId: string): Promise<Settlement>;
}

export const createCompletenessLedger = (deps: {
  db: Db;
  topology: Topology;
  relay?: Pick<OutboxRelay, "publishNow">;
  clock?: Clock;
  /** The unlocked look at a call; default through `db` (production passes a `pg` pool reader). */
  read?: LedgerReader;
}): CompletenessLedger => {
  const clock = deps.clock ?? systemClock;
  const read = deps.read ?? readLedgerIn(deps.db);
  const look = async (callId: string): Promise<Settlement> => {
    // Most events leave a call pending. That verdict is read without a lock or a transaction: the
    // event of whichever chunk turns terminal last is read after every other chunk's commit, so it
    // always sees the call complete and takes the locked path below, which alone settles.
    const peek = await read(callId);
    if (!peek) return { outcome: "unknown_call" };
    const settled = isSettled(peek.call);
    if (settled) return { outcome: "already_settled", status: settled };
    const verdict = evaluateCompleteness({
      uploadFinished: peek.call.uploadFinished,
      expectedChunkCount: peek.call.expectedChunkCount,
      policy: peek.call.failurePolicy,
      chunks: peek.chunks,
    });
    if (verdict.state === "pending") return { outcome: "pending", reason: verdict.reason };
    return commitWithEvents(deps.db, deps.topology, (tx, emit) => settleCall(tx, emit, callId, clock.now()), deps.relay);
  };

  // Events of one call handled at once in this process (a backlog, redeliveries) go one after the
  // other: the second then sees the first's verdict without a transaction or a lock wait.
  const inFlight = new Map<string, Promise<Settlement>>();
  return {
    settle: async (callId) => {
      for (let previous = inFlight.get(callId); previous; previous = inFlight.get(callId)) await previous.catch(() => undefined);
      const current = look(callId);
      inFlight.set(callId, current);
      try {
        return await current;
      } finally {
        if (inFlight.get(callId) === current) inFlight.delete(callId);
      }
    },
  };
};
