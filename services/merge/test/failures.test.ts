import { Readable } from "node:stream";
import { topology } from "@callflow/contracts";
import { runMediaTool } from "@callflow/media";
import { PermanentError } from "@callflow/messaging";
import { describe, expect, test } from "@callflow/testkit";
import { objectStoreRecordings } from "../src/recordings/recording-storage.ts";
import { buildHandler, delivery, outboxEvents, seedTranscribedCall, transcribedEvent } from "./support/harness.ts";

const t = topology("merge_failures");

describe("chunks that cannot be merged", () => {
  test("a corrupt chunk under the fail policy fails the call at merge, naming the chunk, and keeps every chunk", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, {
      chunks: [{ seconds: 1, extension: "wav" }, { seconds: 1, extension: "wav", corrupt: true }, { seconds: 1, extension: "mp3" }],
    });
    expect(await buildHandler(db, storage, t, { deleteChunks: true })(transcribedEvent(call), delivery())).toEqual({ kind: "ack" });

    const failed = await db.call.findUniqueOrThrow({ where: { id: call.callId } });
    expect(failed).toMatchObject({ status: "failed", failedStage: "merge", errorCode: "merge_input_unreadable" });
    expect(failed.errorMessage).toMatch(/^unreadable chunk 1: chunk 1 \(/);
    const stage = await db.stageRun.findFirstOrThrow({ where: { callId: call.callId, stage: "merge" } });
    expect(stage).toMatchObject({ status: "failed", errorCode: "merge_input_unreadable" });
    expect(await outboxEvents(db, t, "callFailed")).toMatchObject([{ callId: call.callId, errorCode: "merge_input_unreadable" }]);
    expect(await outboxEvents(db, t, "callMerged")).toHaveLength(0);
    expect(await db.mergedRecording.count()).toBe(0);
    // Retention was on, but nothing was verified: nothing is destroyed.
    for (const chunk of call.chunks) expect(await storage.store.head(chunk.objectKey), chunk.objectKey).not.toBeNull();
    expect(await storage.store.head(`tenants/${call.tenantId}/calls/${call.callId}/v1/merged-1.flac`)).toBeNull();
  });

  test("a corrupt chunk under the partial policy is left out of a partial recording, with its reason", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, {
      failurePolicy: "partial",
      chunks: [{ seconds: 1, extension: "wav" }, { seconds: 1, extension: "ogg", corrupt: true }, { seconds: 2, extension: "wav" }],
    });
    expect(await buildHandler(db, storage, t)(transcribedEvent(call), delivery())).toEqual({ kind: "ack" });

    const recording = await db.mergedRecording.findFirstOrThrow({ where: { callId: call.callId } });
    expect(recording.partial).toBe(true);
    expect(recording.skipped).toEqual([{ index: 1, chunkId: call.chunks[1]!.id, reason: expect.stringMatching(/^not readable audio/) }]);
    expect((recording.inputs as { index: number }[]).map((i) => i.index)).toEqual([0, 2]);
    expect(recording.durationSeconds).toBeCloseTo(3, 1);
    expect(await outboxEvents(db, t, "callMerged")).toHaveLength(1);
    expect((await db.call.findUniqueOrThrow({ where: { id: call.callId } })).status).toBe("processing");
  });

  test("a chunk whose object is gone is unreadable too: never skipped silently", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }, { seconds: 1, extension: "wav" }] });
    await storage.store.delete(call.chunks[0]!.objectKey);
    await buildHandler(db, storage, t)(transcribedEvent(call), delivery());
    const failed = await db.call.findUniqueOrThrow({ where: { id: call.callId } });
    expect(failed).toMatchObject({ status: "failed", errorCode: "merge_input_unreadable" });
    expect(failed.errorMessage).toContain("does not exist");
  });

  test("a merged file shorter than its inputs fails verification and its object is deleted", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 2, extension: "wav" }, { seconds: 2, extension: "wav" }] });
    // An encoder that drops everything after the first input: the probe must catch it.
    const truncating = buildHandler(db, storage, t, {
      deleteChunks: true,
      concatenate: async ({ inputs, output }) => {
        await runMediaTool("ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", inputs[0]!, "-c:a", "flac", output], { timeoutMs: 30_000 });
      },
    });
    // Left over from an earlier attempt: must not survive as if it were the recording.
    const key = `tenants/${call.tenantId}/calls/${call.callId}/v1/merged-1.flac`;
    await storage.store.putStream(key, Readable.from([Buffer.from("stale")]));

    expect(await truncating(transcribedEvent(call), delivery())).toEqual({ kind: "ack" });
    const failed = await db.call.findUniqueOrThrow({ where: { id: call.callId } });
    expect(failed).toMatchObject({ status: "failed", failedStage: "merge", errorCode: "merge_duration_mismatch" });
    expect(failed.errorMessage).toMatch(/is 2\.\d+ s, its 2 inputs add up to 4\.\d+ s/);
    expect(await storage.store.head(key)).toBeNull();
    for (const chunk of call.chunks) expect(await storage.store.head(chunk.objectKey)).not.toBeNull();
  });

  test("a storage outage is retried with the stage released, and fails the stage on the last delivery", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }] });
    const real = objectStoreRecordings(storage.store);
    const outage = { ...real, download: async () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:9")) };
    const merge = buildHandler(db, storage, t, { storage: outage });
    const maxDeliver = 3;

    expect(await merge(transcribedEvent(call), delivery(1, maxDeliver))).toMatchObject({ kind: "retry", code: "merge_storage_unavailable" });
    expect(await db.stageRun.findFirstOrThrow({ where: { callId: call.callId, stage: "merge" } })).toMatchObject({ status: "queued", attempt: 1, errorCode: "merge_storage_unavailable" });

    expect(await merge(transcribedEvent(call), delivery(3, maxDeliver))).toEqual({ kind: "ack" });
    expect(await db.call.findUniqueOrThrow({ where: { id: call.callId } })).toMatchObject({ status: "failed", failedStage: "merge", errorCode: "merge_storage_unavailable" });
    expect(await outboxEvents(db, t, "callFailed")).toHaveLength(1);
  });

  test("an ffprobe that cannot start is the worker's problem, not the chunk's: retried, the call untouched", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }] });
    const merge = buildHandler(db, storage, t, { tools: { ffmpeg: "ffmpeg", ffprobe: "/nonexistent/ffprobe", timeoutMs: 10_000 } });
    expect(await merge(transcribedEvent(call), delivery(1))).toMatchObject({ kind: "retry", code: "merge_tool_unavailable" });
    expect((await db.call.findUniqueOrThrow({ where: { id: call.callId } })).status).toBe("processing");
    expect(await db.stageRun.findFirstOrThrow({ where: { callId: call.callId, stage: "merge" } })).toMatchObject({ status: "queued", errorCode: "merge_tool_unavailable" });
  });

  test("a worker whose stage was taken over before it noticed fails neither the stage nor the call when its attempt gives up", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }] });
    const merge = buildHandler(db, storage, t, {
      // No heartbeat tick in between: this worker has not yet seen that it lost the stage.
      heartbeatMs: 60_000,
      concatenate: async () => {
        // Its heartbeat had gone stale and another worker claimed the stage as the next attempt.
        await db.stageRun.updateMany({ where: { callId: call.callId, stage: "merge" }, data: { attempt: { increment: 1 }, heartbeatAt: new Date() } });
        throw new PermanentError("merge_encode_failed", "ffmpeg refused the inputs");
      },
    });

    expect(await merge(transcribedEvent(call), delivery())).toEqual({ kind: "ack" });
    expect(await db.stageRun.findFirstOrThrow({ where: { callId: call.callId, stage: "merge" } })).toMatchObject({ status: "running", attempt: 2, errorCode: null });
    expect(await db.call.findUniqueOrThrow({ where: { id: call.callId } })).toMatchObject({ status: "processing", errorCode: null });
    expect(await outboxEvents(db, t, "callFailed")).toHaveLength(0);
  });
});
