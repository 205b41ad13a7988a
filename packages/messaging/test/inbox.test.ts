import type { Db } from "@callflow/db";
import { expect, test, waitFor } from "@callflow/testkit";
import { casTransition, claimMessage } from "../src/inbox.ts";
import { seedChunk } from "./fixtures/outbox-support.ts";

const CONSUMER = "callflow_transcription";

interface Step {
  /** Called once the claim returned (its row is inserted, not yet committed). */
  onClaimed?: () => void;
  /** The transaction commits (or fails) only after this resolves. */
  release?: Promise<void>;
  fail?: boolean;
}

/** A handler's transaction: claim the message, apply its effect if claimed, commit. */
const applyOnce = (db: Db, chunkId: string, messageId: string, { onClaimed, release, fail = false }: Step = {}) =>
  db.$transaction(
    async (tx) => {
      const claimed = await claimMessage(tx, CONSUMER, messageId);
      onClaimed?.();
      if (claimed) await tx.chunk.update({ where: { id: chunkId }, data: { attempt: { increment: 1 } } });
      await release;
      if (fail) throw new Error("the effect's transaction failed");
      return claimed;
    },
    { timeout: 20_000 },
  );

/** Resolves once some session waits for a row lock: the second claim is blocked on the first. */
const someoneWaitsForALock = (db: Db) =>
  waitFor("the second claim to wait for the first transaction", async () => {
    const [row] = await db.$queryRaw<{ waiting: number }[]>`
      SELECT count(*)::int AS waiting FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    return (row?.waiting ?? 0) > 0;
  });

test("the same message applied in two concurrent transactions has one effect", async ({ database }) => {
  const { db } = database;
  const { chunkId } = await seedChunk(db);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let firstClaimed!: () => void;
  const claimedFirst = new Promise<void>((resolve) => (firstClaimed = resolve));

  const first = applyOnce(db, chunkId, "msg-1", { onClaimed: firstClaimed, release: released });
  await claimedFirst;
  const second = applyOnce(db, chunkId, "msg-1");
  await someoneWaitsForALock(db);
  release();

  expect((await Promise.all([first, second])).sort()).toEqual([false, true]);
  expect((await db.chunk.findUniqueOrThrow({ where: { id: chunkId } })).attempt).toBe(1);
  expect(await db.inboxEntry.findMany({ select: { consumer: true, messageId: true } })).toEqual([
    { consumer: CONSUMER, messageId: "msg-1" },
  ]);
});

test("a claim whose transaction rolls back leaves the message to the next delivery", async ({ database }) => {
  const { db } = database;
  const { chunkId } = await seedChunk(db);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let failingClaimed!: () => void;
  const claimedFirst = new Promise<void>((resolve) => (failingClaimed = resolve));

  const failing = applyOnce(db, chunkId, "msg-2", { onClaimed: failingClaimed, release: released, fail: true });
  await claimedFirst;
  const redelivery = applyOnce(db, chunkId, "msg-2");
  await someoneWaitsForALock(db);
  release();

  await expect(failing).rejects.toThrow("the effect's transaction failed");
  expect(await redelivery).toBe(true);
  expect((await db.chunk.findUniqueOrThrow({ where: { id: chunkId } })).attempt).toBe(1);
  // Another consumer applying the same message is a different effect.
  expect(await db.$transaction((tx) => claimMessage(tx, "callflow_aggregator", "msg-2"))).toBe(true);
});

test("a compare-and-set transition happens once however many redeliveries race for it", async ({ database }) => {
  const { db } = database;
  const { chunkId } = await seedChunk(db);

  const outcomes = await Promise.all(
    Array.from({ length: 5 }, () =>
      db.$transaction((tx) =>
        casTransition(tx.chunk, { id: chunkId }, ["queued", "running"], { status: "transcribed", text: "hello", finishedAt: new Date() }),
      ),
    ),
  );

  expect(outcomes.filter(Boolean)).toHaveLength(1);
  expect(await db.chunk.findUniqueOrThrow({ where: { id: chunkId } })).toMatchObject({ status: "transcribed", text: "hello" });
  expect(await casTransition(db.chunk, { id: chunkId }, ["queued", "running"], { status: "failed" })).toBe(false);
});
