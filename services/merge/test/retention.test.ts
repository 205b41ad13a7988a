import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { topology } from "@callflow/contracts";
import { describe, expect, test } from "@callflow/testkit";
import { objectStoreRecordings, type RecordingStorage } from "../src/recordings/recording-storage.ts";
import { audioFile, buildHandler, delivery, seedTranscribedCall, transcribedEvent } from "./support/harness.ts";

const t = topology("merge_retention");

describe("chunk retention and split chunks", () => {
  test("with retention on, chunk objects are deleted only once the verified recording is committed", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }, { seconds: 1, extension: "mp3" }] });
    const real = objectStoreRecordings(storage.store);
    const seenAtDeletion: unknown[] = [];
    const watched: RecordingStorage = {
      ...real,
      delete: async (key) => {
        throw new Error(`no single delete expected on success, got ${key}`);
      },
      deleteMany: async (keys) => {
        seenAtDeletion.push(await db.mergedRecording.findFirst({ where: { callId: call.callId }, select: { verifiedAt: true } }));
        await real.deleteMany(keys);
      },
    };
    expect(await buildHandler(db, storage, t, { deleteChunks: true, storage: watched })(transcribedEvent(call), delivery())).toEqual({ kind: "ack" });

    expect(seenAtDeletion).toEqual([{ verifiedAt: expect.any(Date) }]);
    for (const chunk of call.chunks) expect(await storage.store.head(chunk.objectKey), chunk.objectKey).toBeNull();
    const recording = await db.mergedRecording.findFirstOrThrow({ where: { callId: call.callId } });
    expect(await storage.store.head(recording.objectKey)).not.toBeNull();
  });

  test("with retention off (the default), chunk objects stay", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }] });
    await buildHandler(db, storage, t)(transcribedEvent(call), delivery());
    expect(await db.mergedRecording.count({ where: { callId: call.callId } })).toBe(1);
    expect(await storage.store.head(call.chunks[0]!.objectKey)).not.toBeNull();
  });

  test("a split chunk merges from its original while it exists, and from its parts once it is gone", async ({ database, storage }) => {
    const { db } = database;
    const merged = async (withOriginal: boolean) => {
      const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }, { seconds: 3, extension: "wav" }] });
      const original = call.chunks[1]!;
      await db.chunk.update({ where: { id: original.id }, data: { status: "superseded" } });
      const dir = await mkdtemp(path.join(tmpdir(), "callflow-parts-"));
      const partIds: string[] = [];
      // Stored out of order on purpose: parts go by their offset in the original.
      for (const [n, seconds, offset] of [[1, 1, 2], [0, 2, 0]] as const) {
        const key = `${original.objectKey}.part-${n}.wav`;
        await objectStoreRecordings(storage.store).upload(key, await audioFile(dir, `part-${n}`, { seconds, extension: "wav" }), "audio/wav");
        const part = await db.chunk.create({
          data: { tenantId: call.tenantId, callId: call.callId, index: 100_000 + 1_000 + n, parentChunkId: original.id, objectKey: key, startOffsetSeconds: 1 + offset, status: "transcribed" },
        });
        partIds[n] = part.id;
      }
      if (!withOriginal) await storage.store.delete(original.objectKey);
      await buildHandler(db, storage, t)(transcribedEvent(call), delivery());
      const recording = await db.mergedRecording.findFirstOrThrow({ where: { callId: call.callId } });
      return { call, partIds, inputs: recording.inputs as { chunkId: string; index: number; durationSeconds: number }[], durationSeconds: recording.durationSeconds };
    };

    const fromOriginal = await merged(true);
    expect(fromOriginal.inputs.map((i) => i.chunkId)).toEqual(fromOriginal.call.chunks.map((c) => c.id));
    expect(fromOriginal.durationSeconds).toBeCloseTo(4, 1);

    const fromParts = await merged(false);
    expect(fromParts.inputs.map((i) => [i.chunkId, i.index])).toEqual([
      [fromParts.call.chunks[0]!.id, 0],
      [fromParts.partIds[0], 1],
      [fromParts.partIds[1], 1],
    ]);
    expect(fromParts.durationSeconds).toBeCloseTo(4, 1);
  });
});
