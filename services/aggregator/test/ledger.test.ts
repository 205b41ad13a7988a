import { createDb } from "@callflow/db";
import { topology } from "@callflow/contracts";
import { describe, expect, test } from "@callflow/testkit";
import { createCompletenessLedger } from "../src/ledger/completeness-ledger.ts";
import type { Settlement } from "../src/ledger/settle-call.ts";
import { inParallel, seededRandom, shuffle } from "./support/deliveries.ts";
import { chunkText, finishUpload, markFailed, markTranscribed, seedRecorderCalls, type SeededCall } from "./support/seed.ts";

const t = topology("ledger");

type Delivery = { call: SeededCall; kind: "chunk"; index: number } | { call: SeededCall; kind: "upload_finished" };

describe("the completeness ledger", () => {
  test("settles each of 20 calls × 10 chunks exactly once, with every chunk in, whatever the order and duplicates", async ({ database }) => {
    const db = createDb(database.url, { poolSize: 12 });
    try {
      const ledger = createCompletenessLedger({ db, topology: t });
      const calls = await seedRecorderCalls(db, { calls: 20, chunks: 10 });
      const seed = Date.now();
      const random = seededRandom(seed);
      const deliveries: Delivery[] = calls.flatMap((call) => [
        ...call.chunkIds.flatMap((_, index) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ call, kind: "chunk" as const, index }))),
        ...Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({ call, kind: "upload_finished" as const })),
      ]);
      const settlements = new Map<string, Settlement[]>();
      const applied = new Set<string>();

      // A delivery's effect (the chunk row turning terminal, the upload finishing) always commits
      // before its event exists; the first copy applies it, the duplicates find it done.
      await inParallel(shuffle(deliveries, random), 8, async (delivery) => {
        const key = delivery.kind === "chunk" ? delivery.call.chunkIds[delivery.index]! : `${delivery.call.callId}:finish`;
        if (!applied.has(key)) {
          applied.add(key);
          if (delivery.kind === "chunk") await markTranscribed(db, key);
          else await finishUpload(db, delivery.call);
        }
        const settlement = await ledger.settle(delivery.call.callId);
        settlements.set(delivery.call.callId, [...(settlements.get(delivery.call.callId) ?? []), settlement]);
      });

      const events = await db.outboxEvent.findMany({ where: { subject: t.subject("callTranscribed") } });
      expect(events, `seed ${seed}`).toHaveLength(20);
      for (const call of calls) {
        const outcomes = settlements.get(call.callId)!.map((s) => s.outcome);
        expect(outcomes.filter((o) => o === "transcribed"), `seed ${seed}`).toHaveLength(1);
        // The transcript was assembled when the call settled: had it settled early, a chunk's text would be missing.
        const transcript = await db.transcript.findUniqueOrThrow({ where: { callId_audioVersion: { callId: call.callId, audioVersion: 1 } } });
        expect(transcript.text).toBe(call.chunkIds.map((_, index) => chunkText(call.callId, index)).join(" "));
        const starts = (transcript.segments as { start: number }[]).map((segment) => segment.start);
        expect(starts).toEqual([...starts].sort((a, b) => a - b));
        expect(starts).toHaveLength(20);
      }
      const stages = await db.stageRun.groupBy({ by: ["stage", "status"], _count: true });
      expect(stages.map((s) => [s.stage, s.status, s._count]).sort()).toEqual([
        ["merge", "queued", 20],
        ["summary", "queued", 20],
        ["transcription", "succeeded", 20],
      ]);
    } finally {
      await db.$disconnect();
    }
  });

  test("does not settle before the last chunk is terminal, nor before the upload is finished", async ({ database }) => {
    const { db } = database;
    const ledger = createCompletenessLedger({ db, topology: t });
    const [call] = await seedRecorderCalls(db, { calls: 1, chunks: 3 });
    for (const id of call!.chunkIds) await markTranscribed(db, id);
    expect(await ledger.settle(call!.callId)).toMatchObject({ outcome: "pending", reason: "the upload is not finished" });
    await db.chunk.update({ where: { id: call!.chunkIds[2]! }, data: { status: "running" } });
    await finishUpload(db, call!);
    expect(await ledger.settle(call!.callId)).toMatchObject({ outcome: "pending", reason: "chunk 2 is running" });
    expect(await db.outboxEvent.count()).toBe(0);
    await markTranscribed(db, call!.chunkIds[2]!);
    expect(await ledger.settle(call!.callId)).toMatchObject({ outcome: "transcribed", partial: false });
    expect(await ledger.settle(call!.callId)).toMatchObject({ outcome: "already_settled" });
    expect(await db.outboxEvent.count({ where: { subject: t.subject("callTranscribed") } })).toBe(1);
  });

  test("fails the call under the default policy when a chunk failed for good, naming the chunk", async ({ database }) => {
    const { db } = database;
    const ledger = createCompletenessLedger({ db, topology: t });
    const [call] = await seedRecorderCalls(db, { calls: 1, chunks: 5 });
    await finishUpload(db, call!);
    await markTranscribed(db, call!.chunkIds[0]!);
    await markFailed(db, call!.chunkIds[3]!, "provider_rejected", "Audio file is corrupt");
    // Chunks 1, 2 and 4 are still running: the outcome is already known.
    const settlement = await ledger.settle(call!.callId);
    expect(settlement).toEqual({ outcome: "failed", errorCode: "chunk_failed", errorMessage: "chunk 3 failed (provider_rejected): Audio file is corrupt" });
    const row = await db.call.findUniqueOrThrow({ where: { id: call!.callId } });
    expect(row).toMatchObject({ status: "failed", failedStage: "transcription", errorCode: "chunk_failed" });
    expect(row.errorMessage).toContain("chunk 3");
    const stage = await db.stageRun.findFirstOrThrow({ where: { callId: call!.callId, stage: "transcription" } });
    expect(stage).toMatchObject({ status: "failed", errorCode: "chunk_failed" });
    for (const id of [1, 2, 4].map((i) => call!.chunkIds[i]!)) await markTranscribed(db, id);
    expect(await ledger.settle(call!.callId)).toMatchObject({ outcome: "already_settled" });
    expect(await db.outboxEvent.count({ where: { subject: t.subject("callFailed") } })).toBe(1);
    expect(await db.outboxEvent.count({ where: { subject: t.subject("callTranscribed") } })).toBe(0);
  });

  test("continues a call under the partial policy, listing the failed chunk on the call and the transcript", async ({ database }) => {
    const { db } = database;
    const ledger = createCompletenessLedger({ db, topology: t });
    const [call] = await seedRecorderCalls(db, { calls: 1, chunks: 5, failurePolicy: "partial" });
    await finishUpload(db, call!);
    await markFailed(db, call!.chunkIds[3]!, "provider_timeout", "no answer within 90 s");
    expect(await ledger.settle(call!.callId)).toMatchObject({ outcome: "pending" });
    for (const index of [0, 1, 2, 4]) await markTranscribed(db, call!.chunkIds[index]!);
    expect(await ledger.settle(call!.callId)).toMatchObject({ outcome: "transcribed", partial: true, missingChunkIndexes: [3] });
    expect(await db.call.findUniqueOrThrow({ where: { id: call!.callId } })).toMatchObject({ status: "processing", partial: true, missingChunkIndexes: [3] });
    const transcript = await db.transcript.findFirstOrThrow({ where: { callId: call!.callId } });
    expect(transcript).toMatchObject({ partial: true, missingChunkIndexes: [3] });
    expect(transcript.text).not.toContain("chunk 3");
    const [event] = await db.outboxEvent.findMany({ where: { subject: t.subject("callTranscribed") } });
    const { decodeEvent } = await import("@callflow/contracts");
    expect(decodeEvent("callTranscribed", event!.payload)).toMatchObject({ callId: call!.callId, partial: true, transcriptId: transcript.id });
  });
});
