import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { createLogger } from "@callflow/telemetry";
import { describe, expect, test } from "@callflow/testkit";
import { createPrefetchOnChunkReady } from "../src/prefetch-on-chunk-ready.ts";
import { createPrefetchedInputs } from "../src/recordings/prefetched-inputs.ts";
import { objectStoreRecordings, type RecordingStorage } from "../src/recordings/recording-storage.ts";
import { buildHandler, delivery, probeStored, seedTranscribedCall, tools, transcribedEvent } from "./support/harness.ts";

const t = topology("merge_prefetch");
const logger = createLogger({ service: "merge-prefetch-test", level: "silent" });

/** The real storage, counting downloads: who fetched each object, the prefetch or the merge. */
const countingDownloads = (inner: RecordingStorage) => {
  const downloads: string[] = [];
  const storage: RecordingStorage = {
    ...inner,
    download: (key, file, signal) => {
      downloads.push(key);
      return inner.download(key, file, signal);
    },
  };
  return { storage, downloads };
};

const chunkObject = (db: Db) => (chunkId: string) => db.chunk.findUnique({ where: { id: chunkId }, select: { objectKey: true, index: true, createdAt: true } });

describe("merge inputs prefetched while the call arrives", () => {
  test("a merge takes the inputs prefetched from chunkReady instead of downloading them again", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }, { seconds: 1.5, extension: "mp3" }, { seconds: 1, extension: "wav" }] });
    const { storage: counted, downloads } = countingDownloads(objectStoreRecordings(storage.store));
    const dir = path.join(await mkdtemp(path.join(tmpdir(), "callflow-prefetch-test-")), "inputs");
    const inputs = createPrefetchedInputs({ storage: counted, tools, dir, maxBytes: 64 * 1024 * 1024, maxAgeMs: 60_000 });
    const prefetch = createPrefetchOnChunkReady({ chunkObject: chunkObject(db), inputs, freshForMs: 60_000, logger });

    // Each chunkReady delivered twice (a redelivery), and one for a chunk that does not exist.
    for (const chunk of [...call.chunks, ...call.chunks]) expect(await prefetch({ chunkId: chunk.id })).toEqual({ kind: "ack" });
    expect(await prefetch({ chunkId: "00000000-0000-4000-8000-000000000000" })).toEqual({ kind: "ack" });
    expect(downloads).toEqual(call.chunks.map((chunk) => chunk.objectKey));
    expect(inputs.size().entries).toBe(3);

    const merge = buildHandler(db, storage, t, { storage: counted, prefetched: inputs });
    expect(await merge(transcribedEvent(call), delivery())).toEqual({ kind: "ack" });

    // No input downloaded a second time; what was taken left the cache and its directory.
    expect(downloads).toHaveLength(3);
    expect(inputs.size()).toEqual({ entries: 0, bytes: 0 });
    expect(await readdir(dir)).toEqual([]);
    const recording = await db.mergedRecording.findUniqueOrThrow({ where: { callId_audioVersion: { callId: call.callId, audioVersion: 1 } } });
    const merged = recording.inputs as { index: number; durationSeconds: number }[];
    expect(merged.map((input) => input.index)).toEqual([0, 1, 2]);
    const stored = await probeStored(storage, recording.objectKey);
    expect(Math.abs(stored.durationSeconds - merged.reduce((sum, input) => sum + input.durationSeconds, 0))).toBeLessThan(0.1);
    await inputs.close();
  });

  test("an input the prefetch could not read is fetched by the merge, which reports it under the call's policy", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }, { seconds: 1, extension: "wav", corrupt: true }] });
    const { storage: counted, downloads } = countingDownloads(objectStoreRecordings(storage.store));
    const dir = path.join(await mkdtemp(path.join(tmpdir(), "callflow-prefetch-test-")), "inputs");
    const inputs = createPrefetchedInputs({ storage: counted, tools, dir, maxBytes: 64 * 1024 * 1024, maxAgeMs: 60_000 });
    const prefetch = createPrefetchOnChunkReady({ chunkObject: chunkObject(db), inputs, freshForMs: 60_000, logger });
    for (const chunk of call.chunks) await prefetch({ chunkId: chunk.id });
    // Only the readable chunk is kept: the corrupt one is the merge's to judge.
    expect(inputs.size().entries).toBe(1);

    const merge = buildHandler(db, storage, t, { storage: counted, prefetched: inputs });
    expect(await merge(transcribedEvent(call), delivery())).toEqual({ kind: "ack" });
    expect(downloads).toEqual([call.chunks[0]!.objectKey, call.chunks[1]!.objectKey, call.chunks[1]!.objectKey]);
    const stage = await db.stageRun.findUniqueOrThrow({ where: { callId_stage_audioVersion: { callId: call.callId, stage: "merge", audioVersion: 1 } } });
    expect(stage).toMatchObject({ status: "failed", errorCode: "merge_input_unreadable" });
    expect(stage.errorMessage).toContain("chunk 1");
    await inputs.close();
  });

  test("a storage outage during a prefetch leaves nothing behind, and the merge downloads the input itself", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }] });
    const real = objectStoreRecordings(storage.store);
    const down: RecordingStorage = { ...real, download: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:9000")) };
    const dir = path.join(await mkdtemp(path.join(tmpdir(), "callflow-prefetch-test-")), "inputs");
    const inputs = createPrefetchedInputs({ storage: down, tools, dir, maxBytes: 64 * 1024 * 1024, maxAgeMs: 60_000 });
    const prefetch = createPrefetchOnChunkReady({ chunkObject: chunkObject(db), inputs, freshForMs: 60_000, logger });

    expect(await prefetch({ chunkId: call.chunks[0]!.id })).toEqual({ kind: "ack" });
    expect(inputs.size()).toEqual({ entries: 0, bytes: 0 });
    expect(await readdir(dir)).toEqual([]);

    const merge = buildHandler(db, storage, t, { prefetched: inputs });
    expect(await merge(transcribedEvent(call), delivery())).toEqual({ kind: "ack" });
    expect(await db.mergedRecording.count({ where: { callId: call.callId } })).toBe(1);
    await inputs.close();
  });

  test("a chunk that waited past its freshness for the prefetch is left to the merge", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }, { seconds: 1, extension: "wav" }] });
    const dir = path.join(await mkdtemp(path.join(tmpdir(), "callflow-prefetch-test-")), "inputs");
    const inputs = createPrefetchedInputs({ storage: objectStoreRecordings(storage.store), tools, dir, maxBytes: 64 * 1024 * 1024, maxAgeMs: 60_000 });
    const stored = (await db.chunk.findUniqueOrThrow({ where: { id: call.chunks[0]!.id } })).createdAt.getTime();
    const prefetchAt = (at: number) => createPrefetchOnChunkReady({ chunkObject: chunkObject(db), inputs, freshForMs: 2_000, now: () => at, logger });

    expect(await prefetchAt(stored + 2_001)({ chunkId: call.chunks[0]!.id })).toEqual({ kind: "ack" });
    expect(inputs.size().entries).toBe(0);
    expect(await prefetchAt(stored + 1_000)({ chunkId: call.chunks[1]!.id })).toEqual({ kind: "ack" });
    expect(inputs.size().entries).toBe(1);
    await inputs.close();
  });

  test("the cache stops at its size limit, drops what nobody took in time, and close removes its directory", async ({ database, storage }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "wav" }, { seconds: 1, extension: "wav" }, { seconds: 1, extension: "wav" }] });
    let now = 1_000_000;
    const dir = path.join(await mkdtemp(path.join(tmpdir(), "callflow-prefetch-test-")), "inputs");
    const inputs = createPrefetchedInputs({ storage: objectStoreRecordings(storage.store), tools, dir, maxBytes: 30_000, maxAgeMs: 60_000, now: () => now });
    const [first, second, third] = call.chunks.map((chunk) => chunk.objectKey);

    await inputs.prefetch(first!, 0);
    // One second of 16 kHz 16-bit audio is 32 KB: the first is taken while the cache is under its 30 KB, and fills it.
    expect(inputs.size().bytes).toBeGreaterThan(32_000);
    await inputs.prefetch(second!, 1);
    await inputs.prefetch(second!, 1);
    expect(inputs.size().entries).toBe(1);

    now += 60_001;
    await inputs.prefetch(third!, 2);
    expect(inputs.size().entries).toBe(1);
    expect(await inputs.take(first!, path.join(dir, "..", "taken.wav"))).toBeUndefined();
    expect(await inputs.take(third!, path.join(dir, "..", "taken.wav"))).toEqual({ durationSeconds: expect.closeTo(1, 2) });

    // Asked for by a merge (which fetched it itself): a late chunkReady does not fetch it again.
    await inputs.prefetch(first!, 0);
    expect(inputs.size().entries).toBe(0);
    // Until the merge's word has aged out like any entry.
    now += 60_001;
    await inputs.prefetch(first!, 0);
    expect(inputs.size().entries).toBe(1);
    await inputs.close();
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
    await inputs.prefetch(second!, 1);
    expect(inputs.size().entries).toBe(0);
  });
});
