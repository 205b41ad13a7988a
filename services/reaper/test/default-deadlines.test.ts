import { test as infra } from "@callflow/testkit";
import type { ReaperHandle } from "../src/index.ts";
import { createCallWithChunk, createTenant, describe, expect, later, MINUTE, SECOND, startReaperWithDefaults } from "./support.ts";

/** The reaper's default CALLFLOW_REAPER_INTERVAL_MS: the tests sweep on this beat of an injected clock. */
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

describe("the shipped default deadlines", () => {
  test("a 2-minute call no transcription worker ever takes fails with worker_not_processing_queue within 10 minutes of upload", async ({ reaper, database }) => {
    const { db } = database;
    const uploadedAt = new Date();
    const tenant = await createTenant(db);
    const { callId, chunk } = await createCallWithChunk(db, { tenantId: tenant.id, at: uploadedAt, chunk: { status: "queued", durationSeconds: 120 } });

    let failedAfterMs: number | null = null;
    const kinds: string[] = [];
    for (let elapsed = SWEEP_INTERVAL_MS; elapsed <= 15 * MINUTE && failedAfterMs === null; elapsed += SWEEP_INTERVAL_MS) {
      const { actions } = await reaper.sweepNow({ now: later(uploadedAt, elapsed) });
      kinds.push(...actions.filter((a) => a.entityId === chunk.id).map((a) => a.kind));
      const call = await db.call.findUniqueOrThrow({ where: { id: callId }, select: { status: true } });
      if (call.status === "failed") failedAfterMs = elapsed;
    }

    expect(kinds).toEqual(["chunk.redrive", "chunk.redrive", "chunk.fail"]);
    expect(failedAfterMs).not.toBeNull();
    expect(failedAfterMs!).toBeLessThanOrEqual(10 * MINUTE);
    expect(await db.call.findUniqueOrThrow({ where: { id: callId } })).toMatchObject({ status: "failed", failedStage: "transcription", errorCode: "worker_not_processing_queue" });
  });

  test("a call whose chunks are all transcribed but whose ledger never settles it fails within 10 minutes of its last chunk", async ({ reaper, database }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const { callId, chunk } = await createCallWithChunk(db, { tenantId: tenant.id, at: t0, chunk: { status: "queued", durationSeconds: 120 } });
    await db.chunk.update({ where: { id: chunk.id }, data: { status: "transcribed", text: "hi", updatedAt: t0 } });

    let failedAfterMs: number | null = null;
    for (let elapsed = SWEEP_INTERVAL_MS; elapsed <= 30 * MINUTE && failedAfterMs === null; elapsed += SWEEP_INTERVAL_MS) {
      await reaper.sweepNow({ now: later(t0, elapsed) });
      if ((await db.call.findUniqueOrThrow({ where: { id: callId }, select: { status: true } })).status === "failed") failedAfterMs = elapsed;
    }
    expect(failedAfterMs).not.toBeNull();
    expect(failedAfterMs!).toBeLessThanOrEqual(10 * MINUTE);
    expect(await db.call.findUniqueOrThrow({ where: { id: callId } })).toMatchObject({ status: "failed", errorCode: "worker_not_processing_queue" });
  });

  test("a 2-minute call whose worker died mid-work is re-driven within 2 minutes of its last heartbeat", async ({ reaper, database }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const { chunk } = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -MINUTE), chunk: { status: "running", attempt: 1, startedAt: later(t0, -30 * SECOND), heartbeatAt: t0, durationSeconds: 120 } });

    let redrivenAfterMs: number | null = null;
    for (let elapsed = SWEEP_INTERVAL_MS; elapsed <= 5 * MINUTE && redrivenAfterMs === null; elapsed += SWEEP_INTERVAL_MS) {
      const { actions } = await reaper.sweepNow({ now: later(t0, elapsed) });
      if (actions.some((a) => a.entityId === chunk.id && a.kind === "chunk.redrive")) redrivenAfterMs = elapsed;
    }
    expect(redrivenAfterMs).not.toBeNull();
    expect(redrivenAfterMs!).toBeLessThanOrEqual(2 * MINUTE);
  });

  test("a 60-minute call's chunk that keeps beating runs for 32 minutes before its run timeout, a 2-minute one for 3", async ({ reaper, database }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const beating = async (durationSeconds: number) =>
      (await createCallWithChunk(db, { tenantId: tenant.id, at: t0, chunk: { status: "running", attempt: 1, startedAt: t0, heartbeatAt: t0, durationSeconds } })).chunk;
    const long = await beating(60 * 60);
    const short = await beating(120);
    // Each sweep sees a heartbeat 10 s old, as a live worker leaves it.
    const sweepAt = async (elapsed: number) => {
      await db.chunk.updateMany({ where: { id: { in: [long.id, short.id] }, status: "running" }, data: { heartbeatAt: later(t0, elapsed - 10 * SECOND) } });
      const { actions } = await reaper.sweepNow({ now: later(t0, elapsed) });
      return actions.filter((a) => a.entityId === long.id || a.entityId === short.id).map((a) => [a.entityId === long.id ? "long" : "short", a.kind, a.after]);
    };

    expect(await sweepAt(3 * MINUTE - SECOND)).toEqual([]);
    expect(await sweepAt(3 * MINUTE)).toEqual([["short", "chunk.fail", expect.objectContaining({ errorCode: "stage_timeout", maxRunMs: 3 * MINUTE })]]);
    expect(await sweepAt(32 * MINUTE - SECOND)).toEqual([]);
    expect(await sweepAt(32 * MINUTE)).toEqual([["long", "chunk.fail", expect.objectContaining({ errorCode: "stage_timeout", maxRunMs: 32 * MINUTE })]]);
  });
});
