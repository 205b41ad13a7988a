import { Prisma, type Db, type DialPriority } from "@callflow/db";
import { commitWithEvents, type Clock, type Emit, type OutboxRelay, type TransactionClient } from "@callflow/messaging";
import type { Topology } from "@callflow/contracts";
import { isWindowOpen, nextWindowOpening } from "../dials/call-window.ts";
import { refundPacingToken, takePacingToken } from "./pacing.ts";

/** A dial as the placer works on it. */
export interface DialRow {
  readonly id: string;
  readonly tenantId: string;
  readonly toNumber: string;
  readonly fromNumber: string | null;
  readonly status: string;
  readonly attempt: number;
  readonly priority: DialPriority;
  readonly startedAt: Date | null;
  readonly createdAt: Date;
  readonly nextAttemptAt: Date;
  readonly calleeTimezone: string | null;
  readonly windowStart: number;
  readonly windowEnd: number;
}

/** A dial this replica moved to `placing`; `adopted`: a dead dialer's attempt, to be looked up before placing again. */
export interface ClaimedDial extends DialRow {
  readonly startedAt: Date;
  readonly adopted: boolean;
}

export type Claim =
  | { kind: "claimed"; dial: ClaimedDial }
  | { kind: "settled" }
  | { kind: "paced"; waitMs: number }
  | { kind: "idle" };

export interface QueuePolicy {
  readonly account: string;
  readonly callsPerSecond: number;
  readonly tenantConcurrency: number;
  readonly agingMs: number;
  readonly staleAfterMs: number;
}

const ON_THE_LINE_STATUSES = Prisma.sql`('placing', 'placed', 'ringing', 'in_progress')`;

const DIAL_COLUMNS = Prisma.sql`
  d.id, d.tenant_id AS "tenantId", d.to_number AS "toNumber", d.from_number AS "fromNumber", d.status::text AS status,
  d.attempt, d.priority::text AS priority, d.started_at AS "startedAt", d.created_at AS "createdAt",
  d.next_attempt_at AS "nextAttemptAt", d.callee_timezone AS "calleeTimezone",
  t.call_window_start_minute AS "windowStart", t.call_window_end_minute AS "windowEnd"`;

/** Thrown to roll a claim back when no dial is due: the pacing token goes back with it. */
class NothingDue extends Error {}

const windowOf = (dial: DialRow) => ({ startMinute: dial.windowStart, endMinute: dial.windowEnd, timeZone: dial.calleeTimezone ?? "UTC" });

/**
 * Whether a waiting dial may be placed at `at`: refused (on the do-not-call list; a call window that
 * cannot be read, which would otherwise stop the queue at this dial), or closed until the next opening.
 */
type Admission = { kind: "admitted" } | { kind: "refused"; code: string; message: string } | { kind: "closed"; opensAt: Date };

async function admission(tx: TransactionClient, dial: DialRow, at: Date): Promise<Admission> {
  const listed = await tx.doNotCall.findUnique({ where: { tenantId_number: { tenantId: dial.tenantId, number: dial.toNumber } }, select: { id: true } });
  if (listed) return { kind: "refused", code: "do_not_call", message: `${dial.toNumber} is on the tenant's do-not-call list` };
  const window = windowOf(dial);
  try {
    return isWindowOpen(at, window) ? { kind: "admitted" } : { kind: "closed", opensAt: nextWindowOpening(at, window) };
  } catch (error) {
    return { kind: "refused", code: "call_window_invalid", message: `the call window cannot be read: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * The dials table is the placement queue: every transition is a compare-and-set on (status, attempt)
 * with its `dial_events` row and, where the dial's outcome changes, `dialStatusChanged` in the same
 * transaction (invariants 1 and 4).
 */
export function createDialQueue(deps: { db: Db; topology: Topology; relay: Pick<OutboxRelay, "publishNow">; policy: QueuePolicy; clock: Clock }) {
  const { db, policy } = deps;
  const commit = <T>(work: (tx: TransactionClient, emit: Emit) => Promise<T>) => commitWithEvents(db, deps.topology, work, deps.relay);

  const fail = async (tx: TransactionClient, emit: Emit, dial: Pick<DialRow, "id" | "tenantId" | "attempt" | "status">, now: Date, code: string, message: string) => {
    const { count } = await tx.dial.updateMany({
      where: { id: dial.id, status: dial.status as never, attempt: dial.attempt },
      data: { status: "failed", finishedAt: now, heartbeatAt: null, errorCode: code, errorMessage: message.slice(0, 2_000) },
    });
    if (count === 0) return false;
    await tx.dialEvent.create({ data: { dialId: dial.id, status: "failed", attempt: dial.attempt, at: now, errorCode: code, detail: message.slice(0, 2_000) } });
    await emit("dialStatusChanged", { tenantId: dial.tenantId, dialId: dial.id, status: "failed" });
    return true;
  };

  const schedule = async (tx: TransactionClient, dial: DialRow, now: Date, at: Date) => {
    if (dial.status === "scheduled" && dial.nextAttemptAt.getTime() === at.getTime()) return;
    await tx.dial.update({ where: { id: dial.id }, data: { status: "scheduled", nextAttemptAt: at } });
    await tx.dialEvent.create({ data: { dialId: dial.id, status: "scheduled", attempt: dial.attempt, at: now, detail: `outside the call window; next attempt at ${at.toISOString()}` } });
  };

  /** A waiting dial, locked for this transaction; undefined when it is not waiting (placed, finished, unknown). */
  const lockWaiting = async (tx: TransactionClient, dialId: string): Promise<DialRow | undefined> => {
    const [dial] = await tx.$queryRaw<DialRow[]>`
      SELECT ${DIAL_COLUMNS} FROM dials d JOIN tenants t ON t.id = d.tenant_id
       WHERE d.id = ${dialId}::uuid AND d.status IN ('queued', 'scheduled') FOR UPDATE OF d`;
    return dial;
  };

  return {
    /**
     * What a `dialRequested` does: a dial on the do-not-call list fails, one outside its window is
     * `scheduled` for the next opening (never failed). Answers whether the dial waits to be placed.
     */
    async review(dialId: string): Promise<"waiting" | "not_waiting"> {
      const now = deps.clock.now();
      return commit(async (tx, emit) => {
        const dial = await lockWaiting(tx, dialId);
        if (!dial) return "not_waiting";
        const at = dial.nextAttemptAt > now ? dial.nextAttemptAt : now;
        const admitted = await admission(tx, dial, at);
        if (admitted.kind === "refused") {
          await fail(tx, emit, dial, now, admitted.code, admitted.message);
          return "not_waiting";
        }
        if (admitted.kind === "closed") await schedule(tx, dial, now, admitted.opensAt);
        return "waiting";
      });
    },

    /**
     * Claims the next dial to place, in one transaction: the most urgent due dial (priority less one
     * rank per `agingMs` waited, so a low dial's wait is bounded), skipping rows other replicas hold
     * and tenants at their concurrency cap; re-checks the do-not-call list and the call window; takes
     * a pacing token; moves it to `placing` with `attempt + 1`. A `placing` dial without a provider id
     * whose heartbeat is stale is a dead dialer's: claimed as it is, to be fenced by its marker.
     */
    async claimNext(): Promise<Claim> {
      try {
        return await commit(async (tx, emit): Promise<Claim> => {
          // The token first: its row lock makes the claims of one account take turns, so the most urgent
          // dial goes to whoever holds it and the tenant counts below cannot race.
          const token = await takePacingToken(tx, policy.account, deps.clock, policy.callsPerSecond);
          if (!token.taken) return { kind: "paced", waitMs: token.waitMs };
          // The claim's time is the token's: read under the account's lock, so claims are stamped in their order.
          const now = token.at;
          const staleBefore = new Date(now.getTime() - policy.staleAfterMs);
          // Tenants at their cap are counted once, not once per waiting dial.
          const [dial] = await tx.$queryRaw<DialRow[]>`
            WITH capped AS (
              SELECT tenant_id FROM dials WHERE status IN ${ON_THE_LINE_STATUSES} GROUP BY tenant_id HAVING count(*) >= ${policy.tenantConcurrency}::int
            )
            SELECT ${DIAL_COLUMNS} FROM dials d JOIN tenants t ON t.id = d.tenant_id
             WHERE ((d.status IN ('queued', 'scheduled') AND d.next_attempt_at <= ${now}::timestamptz
                     AND d.tenant_id NOT IN (SELECT tenant_id FROM capped))
                 OR (d.status = 'placing' AND d.provider_call_id IS NULL AND d.heartbeat_at < ${staleBefore}::timestamptz))
             ORDER BY CASE WHEN d.status = 'placing' THEN -1000000 ELSE
                        (CASE d.priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END)
                        - FLOOR(GREATEST(0, EXTRACT(EPOCH FROM (${now}::timestamptz - d.next_attempt_at)) * 1000) / ${policy.agingMs}::float8) END,
                      d.next_attempt_at, d.id
             LIMIT 1
             FOR UPDATE OF d SKIP LOCKED`;
          if (!dial) throw new NothingDue();
          const adopted = dial.status === "placing";
          if (!adopted) {
            const admitted = await admission(tx, dial, now);
            if (admitted.kind !== "admitted") {
              await refundPacingToken(tx, policy.account);
              if (admitted.kind === "refused") await fail(tx, emit, dial, now, admitted.code, admitted.message);
              else await schedule(tx, dial, now, admitted.opensAt);
              return { kind: "settled" };
            }
          }
          if (adopted) {
            await tx.dial.update({ where: { id: dial.id }, data: { heartbeatAt: now } });
            await tx.dialEvent.create({ data: { dialId: dial.id, status: "placing", attempt: dial.attempt, at: now, detail: "taken over from a dialer that stopped; looking the attempt up before placing again" } });
            return { kind: "claimed", dial: { ...dial, startedAt: dial.startedAt ?? now, adopted } };
          }
          const attempt = dial.attempt + 1;
          await tx.dial.update({ where: { id: dial.id }, data: { status: "placing", attempt, startedAt: now, heartbeatAt: now } });
          await tx.dialEvent.create({ data: { dialId: dial.id, status: "placing", attempt, at: now } });
          return { kind: "claimed", dial: { ...dial, status: "placing", attempt, startedAt: now, adopted } };
        });
      } catch (error) {
        // Rolled back, so the token taken for it is not spent.
        if (error instanceof NothingDue) return { kind: "idle" };
        throw error;
      }
    },

    /** Still placing this attempt: keeps the dial from looking like a dead dialer's. False once it moved on. */
    async heartbeat(dial: ClaimedDial): Promise<boolean> {
      const { count } = await db.dial.updateMany({ where: { id: dial.id, status: "placing", attempt: dial.attempt, providerCallId: null }, data: { heartbeatAt: deps.clock.now() } });
      return count === 1;
    },

    /** The carrier accepted the call: `placed` with its id. False when the dial moved on meanwhile (canceled). */
    async markPlaced(dial: ClaimedDial, providerCallId: string): Promise<boolean> {
      const now = deps.clock.now();
      return commit(async (tx, emit) => {
        const { count } = await tx.dial.updateMany({
          where: { id: dial.id, status: "placing", attempt: dial.attempt },
          data: { status: "placed", providerCallId, heartbeatAt: now, errorCode: null, errorMessage: null },
        });
        if (count === 0) return false;
        await tx.dialEvent.create({ data: { dialId: dial.id, status: "placed", attempt: dial.attempt, at: now, detail: providerCallId } });
        await emit("dialStatusChanged", { tenantId: dial.tenantId, dialId: dial.id, status: "placed" });
        return true;
      });
    },

    /** The carrier said no for now (429, 5xx): back in the queue at `at`, the error on the row. */
    async requeue(dial: ClaimedDial, at: Date, code: string, message: string): Promise<void> {
      const now = deps.clock.now();
      await commit(async (tx) => {
        const { count } = await tx.dial.updateMany({
          where: { id: dial.id, status: "placing", attempt: dial.attempt },
          data: { status: "queued", nextAttemptAt: at, heartbeatAt: null, errorCode: code, errorMessage: message.slice(0, 2_000) },
        });
        if (count === 1) await tx.dialEvent.create({ data: { dialId: dial.id, status: "queued", attempt: dial.attempt, at: now, errorCode: code, detail: `${message.slice(0, 1_900)}; next attempt at ${at.toISOString()}` } });
      });
    },

    /**
     * No answer from the carrier (timeout, reset, a marker not yet identifiable): the call may exist.
     * The dial stays `placing` and goes stale at `at`, when a placer looks its marker up again.
     */
    async recheckLater(dial: ClaimedDial, at: Date, code: string, message: string): Promise<void> {
      const now = deps.clock.now();
      await commit(async (tx) => {
        const { count } = await tx.dial.updateMany({
          where: { id: dial.id, status: "placing", attempt: dial.attempt },
          data: { heartbeatAt: new Date(at.getTime() - policy.staleAfterMs), errorCode: code, errorMessage: message.slice(0, 2_000) },
        });
        if (count === 1) await tx.dialEvent.create({ data: { dialId: dial.id, status: "placing", attempt: dial.attempt, at: now, errorCode: code, detail: `${message.slice(0, 1_900)}; looked up again at ${at.toISOString()}` } });
      });
    },

    /** `failed` with the code and message (invariant 4), announced. */
    async fail(dial: Pick<DialRow, "id" | "tenantId" | "attempt" | "status">, code: string, message: string): Promise<boolean> {
      const now = deps.clock.now();
      return commit((tx, emit) => fail(tx, emit, dial, now, code, message));
    },

    /** Earlier failures of the kinds that back off, from the dial's timeline. */
    async retriesSoFar(dialId: string, codes: readonly string[]): Promise<number> {
      return db.dialEvent.count({ where: { dialId, errorCode: { in: [...codes] } } });
    },

    /** Due and waiting dials by priority, for the backlog gauge. */
    async backlog(): Promise<Record<DialPriority, number>> {
      const now = deps.clock.now();
      const rows = await db.dial.groupBy({ by: ["priority"], where: { status: { in: ["queued", "scheduled"] }, nextAttemptAt: { lte: now } }, _count: { _all: true } });
      const counts: Record<DialPriority, number> = { high: 0, normal: 0, low: 0 };
      for (const row of rows) counts[row.priority] = row._count._all;
      return counts;
    },

    /** A dial's identity, for a dead-lettered request that names it. */
    async find(dialId: string) {
      return db.dial.findUnique({ where: { id: dialId }, select: { id: true, tenantId: true, attempt: true, status: true } });
    },
  };
}

export type DialQueue = ReturnType<typeof createDialQueue>;
