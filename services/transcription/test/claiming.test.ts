import { describe, expect, startFakeOpenAi, test } from "@callflow/testkit";
import { createOpenAiTranscriber } from "../src/speech-to-text/openai/openai-transcriber.ts";
import { createProviderPolicy, DEFAULT_POLICY } from "../src/speech-to-text/provider-policy.ts";
import { buildHandler, delivery, outboxEvents, seedChunk, toneFile } from "./support/harness.ts";

const openAi = (baseURL: string) =>
  createOpenAiTranscriber({
    baseURL,
    apiKey: "test-openai-key",
    model: "whisper-1",
    limits: { maxBytes: 25 * 1024 * 1024 },
    timeoutBaseMs: 5_000,
    timeoutPerAudioSecondMs: 0,
    policy: createProviderPolicy({ ...DEFAULT_POLICY, provider: "openai" }),
  });

describe("claiming a chunk", () => {
  test("acks a redelivered chunkReady for a transcribed chunk without calling the provider again", async ({ database, storage }) => {
    const fake = await startFakeOpenAi();
    try {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const stt = openAi(fake.baseURL);
      const { handler } = buildHandler(database.db, storage, stt, { staleAfterMs: 60_000 });
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });
      expect(await handler({ chunkId: seeded.chunkId }, delivery(2))).toEqual({ kind: "ack", reason: "the chunk is already transcribed" });
      expect(fake.requests).toHaveLength(1);
      expect(await outboxEvents(database.db, "chunkTranscribed")).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  test("leaves a chunk another worker is heartbeating alone, and takes over one whose heartbeat went stale", async ({ database, storage }) => {
    const fake = await startFakeOpenAi();
    try {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const stt = openAi(fake.baseURL);
      const { handler } = buildHandler(database.db, storage, stt, { staleAfterMs: 30_000 });
      await database.db.chunk.update({ where: { id: seeded.chunkId }, data: { status: "running", attempt: 1, heartbeatAt: new Date(Date.now() - 10_000) } });
      const verdict = await handler({ chunkId: seeded.chunkId }, delivery(2));
      expect(verdict).toMatchObject({ kind: "retry", reason: "another worker holds the chunk" });
      if (verdict.kind === "retry") expect(verdict.afterMs).toBeGreaterThan(15_000);
      expect(fake.requests).toHaveLength(0);

      await database.db.chunk.update({ where: { id: seeded.chunkId }, data: { heartbeatAt: new Date(Date.now() - 31_000) } });
      expect(await handler({ chunkId: seeded.chunkId }, delivery(3))).toMatchObject({ kind: "ack", reason: "transcribed" });
      expect(await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } })).toMatchObject({ status: "transcribed", attempt: 2 });
    } finally {
      await fake.close();
    }
  });

  test("fails a chunk whose audio cannot be read as unsupported, without calling the provider", async ({ database, storage }) => {
    const fake = await startFakeOpenAi();
    try {
      const { writeFile, mkdtemp } = await import("node:fs/promises");
      const path = await import("node:path");
      const { tmpdir } = await import("node:os");
      const bogus = path.join(await mkdtemp(path.join(tmpdir(), "callflow-bogus-")), "chunk.wav");
      await writeFile(bogus, "RIFF but not really a wave file");
      const seeded = await seedChunk(database.db, storage, { audioPath: bogus });
      const stt = openAi(fake.baseURL);
      const { handler } = buildHandler(database.db, storage, stt);
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "the chunk failed: unsupported_audio" });
      expect(await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } })).toMatchObject({ status: "failed", errorCode: "unsupported_audio" });
      expect(fake.requests).toHaveLength(0);
    } finally {
      await fake.close();
    }
  });
});
