import { randomUUID } from "node:crypto";
import { encodeEvent, type EventInit, type EventKey, type Topology } from "@callflow/contracts";
import type { Db, Prisma } from "@callflow/db";
import { injectTraceContext, type CallflowMetrics, type Logger } from "@callflow/telemetry";

/**
 * The transactional outbox (docs/design.md invariant 1): an event is a row committed with the state change
 * it announces. The relay publishes it right after commit; its sweeper republishes whatever is still
 * unpublished a few seconds later. `Nats-Msg-Id` is the row id, so JetStream drops the duplicates a
 * crash between publish and marking can cause (within the stream's duplicate_window).
 */

/** What the relay needs from a publisher; createPublisher in publisher.ts satisfies it. */
export interface Publisher {
  publish(
    subject: string,
    payload: Uint8Array,
    options: { msgId: string; headers?: Record<string, string> },
  ): Promise<{ seq: number; duplicate: boolean }>;
}

export type TransactionClient = Prisma.TransactionClient;

/** Queues an event inside the caller's transaction; resolves to the outbox id (its Nats-Msg-Id). */
export type Emit = <K extends EventKey>(key: K, init: EventInit<K>) => Promise<string>;

/** W3C trace context of the active span, so the consumer of the event joins the producer's trace. */
const activeTraceHeaders = (): Record<string, string> => {
  const carrier: Record<string, string> = {};
  injectTraceContext({
    get: (key) => carrier[key] ?? "",
    set: (key, value) => {
      carrier[key] = value;
    },
    keys: () => Object.keys(carrier),
  });
  return carrier;
};

/** An outbox row as written: what the relay publishes. */
export interface OutboxRow {
  id: string;
  subject: string;
  payload: Uint8Array;
  headers: unknown;
}

/** Inserts an outbox row for `eventKey` in `tx` and returns it; it is published only if `tx` commits. */
async function insertOutboxRow<K extends EventKey>(tx: TransactionClient, topology: Topology, eventKey: K, init: EventInit<K>): Promise<OutboxRow> {
  const row = { id: randomUUID(), subject: topology.subject(eventKey), payload: new Uint8Array(encodeEvent(eventKey, init)), headers: activeTraceHeaders() };
  await tx.outboxEvent.create({ data: row, select: { id: true } });
  return row;
}

/** Inserts an outbox row for `eventKey` in `tx`; it is published only if `tx` commits. */
export async function emitInTransaction<K extends EventKey>(
  tx: TransactionClient,
  topology: Topology,
  eventKey: K,
  init: EventInit<K>,
): Promise<string> {
  return (await insertOutboxRow(tx, topology, eventKey, init)).id;
}

/**
 * Runs `work` in one interactive transaction with an `emit` that queues outbox rows in it. After
 * COMMIT the new rows go to `relay.publishNow` without waiting, with their contents, so the relay
 * need not read back what was just written: a publish failure is the sweeper's to repair, never the
 * caller's (the state change is already durable).
 */
export async function commitWithEvents<T>(
  db: Db,
  topology: Topology,
  work: (tx: TransactionClient, emit: Emit) => Promise<T>,
  relay?: Pick<OutboxRelay, "publishNow">,
  options: { timeoutMs?: number } = {},
): Promise<T> {
  const rows: OutboxRow[] = [];
  const result = await db.$transaction(
    async (tx) => {
      const emit: Emit = async (key, init) => {
        const row = await insertOutboxRow(tx, topology, key, init);
        rows.push(row);
        return row.id;
      };
      return work(tx, emit);
    },
    { timeout: options.timeoutMs ?? 10_000 },
  );
  if (relay && rows.length > 0) void relay.publishNow(rows.map((row) => row.id), rows);
  return result;
}

export interface OutboxRelayOptions {
  db: Db;
  publisher: Publisher;
  logger: Logger;
  metrics?: Pick<CallflowMetrics, "outboxOldestAge" | "outboxPublished">;
  /** A row unpublished for this long is the sweeper's (publishNow had its chance). */
  staleAfterMs?: number;
  sweepEveryMs?: number;
  /** Rows claimed per sweep transaction. */
  batch?: number;
  /** Longest pause between sweeps while nothing can be published (NATS unreachable). */
  maxBackoffMs?: number;
  /** Stop waiting for one publish acknowledgement after this long; the row stays for a later sweep. */
  publishTimeoutMs?: number;
}

export interface OutboxRelay {
  /**
   * Publishes these rows now (those not yet published); resolves to how many it marked. Never rejects.
   * `committed`: the rows' contents, when the caller has just committed them; otherwise they are read.
   */
  publishNow(ids: readonly string[], committed?: readonly OutboxRow[]): Promise<number>;
  /** Publishes every row unpublished for longer than staleAfterMs; resolves to how many it marked. */
  sweep(): Promise<number>;
  /** Sweeps every sweepEveryMs, backing off while every publish fails. */
  start(): void;
  /** Stops sweeping and waits for the sweeps and publishNow calls in flight. */
  stop(): Promise<void>;
}

interface PublishResult {
  published: string[];
  failed: Map<string, string[]>;
}

const errorMessage = (error: unknown): string =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1_000);

/** Headers as stored by emitInTransaction; anything that is not a string pair is ignored. */
const storedHeaders = (value: unknown): Record<string, string> => {
  if (typeof value !== "object" || value === null) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
};

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no acknowledgement within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, publisher, logger, metrics } = options;
  const staleAfterMs = options.staleAfterMs ?? 3_000;
  const sweepEveryMs = options.sweepEveryMs ?? 1_000;
  const batch = options.batch ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;

  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    return promise;
  };

  const publishRows = async (rows: readonly OutboxRow[]): Promise<PublishResult> => {
    const outcomes = await Promise.allSettled(
      rows.map((row) =>
        withTimeout(
          publisher.publish(row.subject, row.payload, { msgId: row.id, headers: storedHeaders(row.headers) }),
          publishTimeoutMs,
          `publish ${row.subject}`,
        ),
      ),
    );
    const result: PublishResult = { published: [], failed: new Map() };
    outcomes.forEach((outcome, index) => {
      const id = rows[index]!.id;
      if (outcome.status === "fulfilled") {
        result.published.push(id);
        return;
      }
      const message = errorMessage(outcome.reason);
      result.failed.set(message, [...(result.failed.get(message) ?? []), id]);
    });
    return result;
  };

  /** Counts a failed publish on each row still unpublished, with its error, for the sweeper to retry. */
  const recordFailures = async (client: TransactionClient, failed: PublishResult["failed"]): Promise<void> => {
    for (const [lastError, ids] of failed) {
      await client.outboxEvent.updateMany({
        where: { id: { in: ids }, publishedAt: null },
        data: { attempts: { increment: 1 }, lastError },
      });
      logger.warn({ outboxIds: ids.slice(0, 20), count: ids.length, error: lastError }, "outbox publish failed; the sweeper retries");
    }
  };

  /** The sweeper's: marks what was published and counts what failed, in its transaction; only rows still unpublished are touched. */
  const recordResult = async (client: TransactionClient, result: PublishResult): Promise<number> => {
    let marked = 0;
    if (result.published.length > 0) {
      ({ count: marked } = await client.outboxEvent.updateMany({
        where: { id: { in: result.published }, publishedAt: null },
        data: { publishedAt: new Date() },
      }));
      metrics?.outboxPublished.inc(marked);
    }
    await recordFailures(client, result.failed);
    return marked;
  };

  // Marking after publishNow is a group commit: the ids of every publish that completes while one
  // UPDATE is in flight wait and go in the next one, so a busy relay marks in a few statements what it
  // published in many, and an idle one marks at once.
  let waitingMarks: { ids: readonly string[]; resolve: (marked: number) => void; reject: (error: unknown) => void }[] = [];
  let marking = false;
  const markAll = async (): Promise<void> => {
    marking = true;
    try {
      while (waitingMarks.length > 0) {
        const waiting = waitingMarks;
        waitingMarks = [];
        try {
          const rows = await db.$queryRaw<{ id: string }[]>`
            UPDATE outbox SET published_at = now()
            WHERE id = ANY(${waiting.flatMap((entry) => entry.ids)}::uuid[]) AND published_at IS NULL
            RETURNING id::text AS id`;
          metrics?.outboxPublished.inc(rows.length);
          const marked = new Set(rows.map((row) => row.id));
          for (const entry of waiting) entry.resolve(entry.ids.filter((id) => marked.has(id)).length);
        } catch (error) {
          for (const entry of waiting) entry.reject(error);
        }
      }
    } finally {
      marking = false;
    }
  };
  const markPublished = (ids: readonly string[]): Promise<number> =>
    new Promise((resolve, reject) => {
      waitingMarks.push({ ids, resolve, reject });
      if (!marking) void markAll();
    });

  const publishNow = (ids: readonly string[], committed?: readonly OutboxRow[]): Promise<number> =>
    track(
      (async () => {
        try {
          // Rows committed a moment ago are unpublished: the sweeper leaves rows alone for staleAfterMs,
          // and a publish that does meet one of its own is dropped by JetStream (same Nats-Msg-Id).
          const rows: readonly OutboxRow[] =
            committed ??
            (await db.outboxEvent.findMany({
              where: { id: { in: [...ids] }, publishedAt: null, failedAt: null },
              select: { id: true, subject: true, payload: true, headers: true },
              orderBy: { createdAt: "asc" },
            }));
          if (rows.length === 0) return 0;
          const result = await publishRows(rows);
          const [marked] = await Promise.all([result.published.length > 0 ? markPublished(result.published) : 0, recordFailures(db, result.failed)]);
          return marked;
        } catch (error) {
          logger.error({ err: error, outboxIds: ids.slice(0, 20) }, "outbox publishNow failed; the sweeper retries");
          return 0;
        }
      })(),
    );

  /** One transaction: claim a batch nobody else holds, publish it, mark it. Locks end at commit. */
  const sweepBatch = (): Promise<{ claimed: number; marked: number; failed: number }> =>
    db.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<OutboxRow[]>`
          SELECT id::text AS id, subject, payload, headers
          FROM outbox
          WHERE published_at IS NULL AND failed_at IS NULL
            AND created_at <= now() - (${staleAfterMs}::double precision * interval '1 millisecond')
          ORDER BY created_at
          LIMIT ${batch}
          FOR UPDATE SKIP LOCKED`;
        if (rows.length === 0) return { claimed: 0, marked: 0, failed: 0 };
        const result = await publishRows(rows);
        const marked = await recordResult(tx, result);
        return { claimed: rows.length, marked, failed: rows.length - result.published.length };
      },
      { timeout: publishTimeoutMs + 15_000, maxWait: 10_000 },
    );

  /** Seconds since the oldest unpublished row was written (null: none), kept as the gauge too. */
  const oldestAge = async (): Promise<number | null> => {
    const [row] = await db.$queryRaw<{ age: number | null }[]>`
      SELECT EXTRACT(EPOCH FROM now() - min(created_at))::double precision AS age
      FROM outbox WHERE published_at IS NULL AND failed_at IS NULL`;
    metrics?.outboxOldestAge.set(row?.age ?? 0);
    return row?.age ?? null;
  };

  /** Sweeps batch after batch until the backlog is gone or a batch could not be fully published. */
  const sweepUntilDone = async (): Promise<{ marked: number; failed: number }> => {
    // Nearly every sweep finds nothing stale: one read says so, without a transaction and row locks.
    const age = await oldestAge();
    if (age === null || age * 1000 < staleAfterMs) return { marked: 0, failed: 0 };
    let marked = 0;
    let failed = 0;
    for (;;) {
      const result = await sweepBatch();
      marked += result.marked;
      failed += result.failed;
      if (result.claimed < batch || result.failed > 0) break;
    }
    await oldestAge();
    return { marked, failed };
  };

  const sweep = (): Promise<number> => track(sweepUntilDone().then((result) => result.marked));

  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let failedSweeps = 0;

  const schedule = (): void => {
    if (!running) return;
    const delay = failedSweeps === 0 ? sweepEveryMs : Math.min(sweepEveryMs * 2 ** failedSweeps, maxBackoffMs);
    timer = setTimeout(() => {
      void track(
        sweepUntilDone().then(
          ({ marked, failed }) => {
            // Back off only when nothing got through: one poison row must not slow the healthy ones.
            failedSweeps = failed > 0 && marked === 0 ? failedSweeps + 1 : 0;
          },
          (error: unknown) => {
            failedSweeps += 1;
            logger.error({ err: error }, "outbox sweep failed");
          },
        ),
      ).finally(schedule);
    }, delay);
  };

  return {
    publishNow,
    sweep,
    start: () => {
      if (running) return;
      running = true;
      schedule();
    },
    stop: async () => {
      running = false;
      clearTimeout(timer);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
