import { randomUUID } from "node:crypto";
import type { Db, StageStatus } from "@callflow/db";
import { test as infra } from "@callflow/testkit";
import type { ReaperHandle } from "../src/index.ts";
import { createTenant, describe, expect, later, MINUTE, outboxEvents, SECOND, startReaperWithDefaults } from "./support.ts";

const SWEEP_INTERVAL_MS = 30 * SECOND;

const test = infra.extend<{ reaper: ReaperHandle }>({
  reaper: async ({ database, messaging, storage }, use) => {
    const reaper = await startReaperWithDefaults({ database, messaging, storage });
    try {
      await use(reaper);
    } finally {
      await reaper.stop();
    }
  },
});

/** A completed dial whose recording's fetch is in the given state since `at`. */
const seedFetch = async (db: Db, at: Date, fetch: { status: StageStatus; attempt: number; maxAttempts?: number }) => {
  const tenant = await createTenant(db);
  const dial = await db.dial.create({ data: { tenantId: tenant.id, toNumber: "+14155550001", status: "completed", attempt: 1, providerCallId: `CA${randomUUID().replaceAll("-", "")}`, finishedAt: at } });
  await db.recordingFetch.create({
    data: {
      dialId: dial.id,
      tenantId: tenant.id,
      callId: randomUUID(),
      recordingUrl: "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1",
      status: fetch.status,
      attempt: fetch.attempt,
      maxAttempts: fetch.maxAttempts ?? 3,
      ...(fetch.status === "running" ? { startedAt: at, heartbeatAt: at } : {}),
      updatedAt: at,
    },
  });
  return dial.id;
};

/** Sweeps on the default interval of an injected clock until `done`, collecting this fetch's actions. */
const sweepUntil = async (reaper: ReaperHandle, from: Date, dialId: string, done: (kinds: string[]) => boolean) => {
  const kinds: string[] = [];
  for (let elapsed = SWEEP_INTERVAL_MS; elapsed <= 15 * MINUTE; elapsed += SWEEP_INTERVAL_MS) {
    const { actions } = await reaper.sweepNow({ now: later(from, elapsed) });
    kinds.push(...actions.filter((action) => action.entityId === dialId).map((action) => `${action.kind}@${Math.round(elapsed / SECOND)}s`));
    if (done(kinds)) return kinds;
  }
  return kinds;
};

describe("a placed call's recording fetch past its deadline, with the shipped defaults", () => {
  test("queued with no worker taking it: its job is sent again twice, then it fails worker_not_processing_queue within 10 minutes", async ({ reaper, database, messaging }) => {
    const queuedAt = new Date();
    const dialId = await seedFetch(database.db, queuedAt, { status: "queued", attempt: 0 });

    const kinds = await sweepUntil(reaper, queuedAt, dialId, (seen) => seen.some((kind) => kind.startsWith("recording_fetch.fail")));
    expect(kinds.map((kind) => kind.split("@")[0])).toEqual(["recording_fetch.redrive", "recording_fetch.redrive", "recording_fetch.fail"]);
    expect(Number(kinds.at(-1)!.split("@")[1]!.replace("s", ""))).toBeLessThanOrEqual(10 * 60);
    expect(await database.db.recordingFetch.findUniqueOrThrow({ where: { dialId } })).toMatchObject({ status: "failed", errorCode: "worker_not_processing_queue" });
    expect((await outboxEvents(database.db, messaging.topology, "dialRecordingFetchRequested")).filter((event) => event.dialId === dialId)).toHaveLength(2);
  });

  test("running with a silent worker: back to queued for its next attempt within 2 minutes; in its last attempt, failed recording_fetch_failed", async ({ reaper, database, messaging }) => {
    const startedAt = new Date();
    const retried = await seedFetch(database.db, startedAt, { status: "running", attempt: 1 });
    const last = await seedFetch(database.db, startedAt, { status: "running", attempt: 3 });

    const kinds = await sweepUntil(reaper, startedAt, retried, (seen) => seen.length > 0);
    expect(kinds).toHaveLength(1);
    expect(kinds[0]).toMatch(/^recording_fetch\.redrive@/);
    expect(Number(kinds[0]!.split("@")[1]!.replace("s", ""))).toBeLessThanOrEqual(2 * 60);
    expect(await database.db.recordingFetch.findUniqueOrThrow({ where: { dialId: retried } })).toMatchObject({ status: "queued", attempt: 1, heartbeatAt: null });
    expect((await outboxEvents(database.db, messaging.topology, "dialRecordingFetchRequested")).map((event) => event.dialId)).toEqual([retried]);
    expect(await database.db.recordingFetch.findUniqueOrThrow({ where: { dialId: last } })).toMatchObject({ status: "failed", errorCode: "recording_fetch_failed" });
  });

  test("a fetch younger than its deadline is left alone", async ({ reaper, database }) => {
    const at = new Date();
    const queued = await seedFetch(database.db, at, { status: "queued", attempt: 0 });
    const running = await seedFetch(database.db, at, { status: "running", attempt: 1 });
    const { actions } = await reaper.sweepNow({ now: later(at, 80 * SECOND) });
    expect(actions.filter((action) => action.entityId === queued || action.entityId === running)).toEqual([]);
  });
});
