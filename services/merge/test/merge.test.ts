import { topology } from "@callflow/contracts";
import { describe, expect, test } from "@callflow/testkit";
import { buildHandler, delivery, outboxEvents, probeStored, seedTranscribedCall, transcribedEvent } from "./support/harness.ts";

const t = topology("merge_handler");

describe("merging a transcribed call", () => {
  test("three chunks in three formats become one verified recording, announced once", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, {
      chunks: [
        { seconds: 2, extension: "mp3", rate: 44_100 },
        { seconds: 1.5, extension: "wav", rate: 8_000 },
        { seconds: 3, extension: "ogg", rate: 22_050 },
      ],
    });
    const merge = buildHandler(db, storage, t);

    expect(await merge(transcribedEvent(call), delivery())).toEqual({ kind: "ack" });

    const recording = await db.mergedRecording.findUniqueOrThrow({ where: { callId_audioVersion: { callId: call.callId, audioVersion: 1 } } });
    expect(recording).toMatchObject({
      objectKey: `tenants/${call.tenantId}/calls/${call.callId}/v1/merged-1.flac`,
      codec: "flac",
      partial: false,
      skipped: [],
    });
    expect(recording.verifiedAt).toBeInstanceOf(Date);
    const inputs = recording.inputs as { chunkId: string; index: number; durationSeconds: number }[];
    expect(inputs.map((i) => [i.chunkId, i.index])).toEqual(call.chunks.map((c) => [c.id, c.index]));
    // mp3 encoders pad a frame at either end; the sum is of what ffprobe measured in each input.
    const sum = inputs.reduce((total, i) => total + i.durationSeconds, 0);
    expect(Math.abs(sum - 6.5)).toBeLessThan(0.15);

    const stored = await probeStored(storage, recording.objectKey);
    expect(Math.abs(stored.durationSeconds - sum) / sum).toBeLessThan(0.02);
    expect(Math.abs((recording.durationSeconds ?? 0) - stored.durationSeconds)).toBeLessThan(0.01);
    expect(Number(recording.sizeBytes)).toBe((await storage.store.head(recording.objectKey))?.size);

    const stage = await db.stageRun.findUniqueOrThrow({ where: { callId_stage_audioVersion: { callId: call.callId, stage: "merge", audioVersion: 1 } } });
    expect(stage).toMatchObject({ status: "succeeded", attempt: 1, errorCode: null });
    expect(stage.finishedAt).toBeInstanceOf(Date);
    expect(await outboxEvents(db, t, "callMerged")).toMatchObject([{ tenantId: call.tenantId, callId: call.callId, recordingId: recording.id }]);
    // Completion is another consumer's decision, from callMerged.
    expect((await db.call.findUniqueOrThrow({ where: { id: call.callId } })).status).toBe("processing");
  });

  test("callTranscribed delivered twice, one after the other and at once, merges once", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }, { seconds: 1, extension: "wav" }] });
    const merge = buildHandler(db, storage, t);
    const concurrent = await Promise.all([merge(transcribedEvent(call), delivery()), merge(transcribedEvent(call), delivery())]);
    // One claims the stage; the other finds it running (retry later) or already merged (ack).
    expect(concurrent.map((o) => o.kind).sort()).toContain("ack");
    expect(await merge(transcribedEvent(call), delivery(2))).toEqual({ kind: "ack" });

    expect(await db.mergedRecording.count({ where: { callId: call.callId } })).toBe(1);
    expect(await outboxEvents(db, t, "callMerged")).toHaveLength(1);
    const stage = await db.stageRun.findUniqueOrThrow({ where: { callId_stage_audioVersion: { callId: call.callId, stage: "merge", audioVersion: 1 } } });
    expect(stage).toMatchObject({ status: "succeeded", attempt: 1 });
  });

  test("a running merge with a fresh heartbeat belongs to its worker: the duplicate retries later", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }] });
    await db.stageRun.updateMany({ where: { callId: call.callId, stage: "merge" }, data: { status: "running", attempt: 1, startedAt: new Date(), heartbeatAt: new Date() } });
    const outcome = await buildHandler(db, storage, t)(transcribedEvent(call), delivery());
    expect(outcome).toMatchObject({ kind: "retry", code: "merge_in_progress" });
    expect(await db.mergedRecording.count()).toBe(0);

    // Its heartbeat goes stale (the worker died): the next delivery takes the stage over as attempt 2.
    await db.stageRun.updateMany({ where: { callId: call.callId, stage: "merge" }, data: { heartbeatAt: new Date(Date.now() - 60_000) } });
    expect(await buildHandler(db, storage, t)(transcribedEvent(call), delivery(2))).toEqual({ kind: "ack" });
    expect(await db.stageRun.findFirstOrThrow({ where: { callId: call.callId, stage: "merge" } })).toMatchObject({ status: "succeeded", attempt: 2 });
  });
});
