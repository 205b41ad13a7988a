import type { Db, Prisma } from "@callflow/db";
import type { Emit, TransactionClient } from "@callflow/messaging";
import type { ObjectStore } from "@callflow/storage";
import type { ReaperPolicy } from "./policy.ts";

/** One transaction with its outbox (commitWithEvents bound to a database, topology and relay). */
export type Commit = <T>(work: (tx: TransactionClient, emit: Emit) => Promise<T>) => Promise<T>;

/** What a sweep acts on: the one place the reaper meets the database, the outbox and the store. */
export interface SweepPorts {
  db: Db;
  commit: Commit;
  /** The outbox relay's publish path (relay.publishNow): the reaper never publishes on its own. */
  publishNow: (ids: readonly string[]) => Promise<number>;
  /** Without a store, the storage sweeps (orphans, multipart uploads) are not run. */
  store?: ObjectStore | undefined;
}

/** Called between reading a candidate and writing its new state: tests use it to lose the race. */
export type BeforeWriteHook = (target: { entityType: string; entityId: string; kind: string }) => Promise<void>;

/** One sweep's frame: every sweep reads `now` from here, never from the wall clock. */
export interface SweepRun extends SweepPorts {
  policy: ReaperPolicy;
  now: Date;
  sweepId: string;
  dryRun: boolean;
  /** `reaper`, or `admin:<key id>` for a sweep an operator asked for. */
  actor: string;
  beforeWrite?: BeforeWriteHook | undefined;
  /** Wall-clock ms after which this sweep may no longer hold its lock: it stops acting then. */
  actUntil?: number | undefined;
}

/** The sweep ran out of the time its lock is held for; the rest waits for the next sweep. */
export class SweepTimeSpentError extends Error {
  override readonly name = "SweepTimeSpentError";
  constructor() {
    super("the sweep's time (CALLFLOW_REAPER_SWEEP_TIMEOUT_MS) is spent: its lock may be another replica's now, so the rest waits for the next sweep");
  }
}

/** Throws once the sweep may have lost its lock: past that point another replica may act on the same rows. */
export const assertStillLocked = (run: Pick<SweepRun, "actUntil">): void => {
  if (run.actUntil !== undefined && Date.now() >= run.actUntil) throw new SweepTimeSpentError();
};

/**
 * What the reaper did (or, in a dry run, would do). `stale`: the row changed between the read and
 * the compare-and-set, so nothing was written; `failed`: the action itself failed (a store error).
 */
export type ActionOutcome = "applied" | "dry_run" | "stale" | "failed";

export interface ReaperAction {
  /** `chunk.redrive`, `stage.fail`, `outbox.republish`, `object.delete`, … (README lists them). */
  kind: string;
  entityType: string;
  entityId: string;
  tenantId: string | null;
  reason: string;
  before: unknown;
  after: unknown;
  outcome: ActionOutcome;
}

export type PlannedAction = Omit<ReaperAction, "outcome" | "after"> & { after: unknown };

type AuditClient = Pick<TransactionClient, "auditEntry">;

const json = (value: unknown): Prisma.InputJsonValue | undefined =>
  value === undefined || value === null ? undefined : (JSON.parse(JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? Number(v) : v))) as Prisma.InputJsonValue);

/** The audit row of an action, written in the transaction of the change it describes. */
export const writeAudit = async (client: AuditClient, run: SweepRun, action: PlannedAction): Promise<void> => {
  await client.auditEntry.create({
    data: {
      at: run.now,
      actor: run.actor,
      action: action.kind,
      entityType: action.entityType,
      entityId: action.entityId,
      tenantId: action.tenantId,
      reason: action.reason.slice(0, 2_000),
      ...(json(action.before) === undefined ? {} : { before: json(action.before)! }),
      ...(json(action.after) === undefined ? {} : { after: json(action.after)! }),
      sweepId: run.sweepId,
      dryRun: run.dryRun,
    },
    select: { id: true },
  });
};

/**
 * Applies one database action: in a dry run only its audit row (flagged `dry_run`) is written;
 * otherwise `write` runs in a transaction with the outbox and answers false when its compare-and-set
 * found the row changed, in which case nothing, not even the audit row, is committed.
 */
export const applyInTransaction = async (
  run: SweepRun,
  planned: PlannedAction,
  write: (tx: TransactionClient, emit: Emit) => Promise<boolean>,
): Promise<ReaperAction> => {
  assertStillLocked(run);
  if (run.dryRun) {
    await writeAudit(run.db, run, planned);
    return { ...planned, outcome: "dry_run" };
  }
  await run.beforeWrite?.({ entityType: planned.entityType, entityId: planned.entityId, kind: planned.kind });
  const applied = await run.commit(async (tx, emit) => {
    if (!(await write(tx, emit))) return false;
    await writeAudit(tx, run, planned);
    return true;
  });
  return { ...planned, outcome: applied ? "applied" : "stale" };
};

/** Audit actions of a customer asking for a call's work again: each gives its stages a fresh re-drive budget. */
export const CALL_RERUN_ACTIONS = ["call.retry", "call.summary_retry"] as const;

/**
 * Re-drives of each entity within its window (`windowSince`, default `since`), from the audit log (dry runs do not count),
 * and only those after the latest re-run of the entity's call (CALL_RERUN_ACTIONS): a customer's
 * /retry re-queues the same rows, which must not inherit the re-drives that failed them.
 */
export const redrivesSince = async (
  db: Db,
  input: { entityType: string; kind: string; entities: readonly { id: string; callId: string; windowSince?: Date }[]; since: Date },
): Promise<Map<string, number>> => {
  if (input.entities.length === 0) return new Map();
  const ids = input.entities.map((entity) => entity.id);
  const callIds = input.entities.map((entity) => entity.callId);
  const sinces = input.entities.map((entity) => entity.windowSince ?? input.since);
  const rows = await db.$queryRaw<{ entityId: string; count: number }[]>`
    SELECT a.entity_id AS "entityId", count(*)::int AS count
    FROM unnest(${ids}::text[], ${callIds}::text[], ${sinces}::timestamptz[]) AS e(id, call_id, since)
    -- The call's latest re-run, looked up once per entity rather than once per audit row.
    CROSS JOIN LATERAL (
      SELECT max(r.at) AS at FROM audit_log r
      WHERE r.entity_type = 'call' AND r.entity_id = e.call_id AND r.action = ANY(${[...CALL_RERUN_ACTIONS]}::text[]) AND NOT r.dry_run
    ) AS rerun
    JOIN audit_log a ON a.entity_type = ${input.entityType} AND a.entity_id = e.id
    WHERE a.action = ${input.kind} AND NOT a.dry_run AND a.at >= e.since AND a.at > COALESCE(rerun.at, '-infinity'::timestamptz)
    GROUP BY a.entity_id`;
  return new Map(rows.map((row) => [row.entityId, row.count]));
};

export const errorText = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1_000);
