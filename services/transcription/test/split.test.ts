import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runMediaTool } from "@callflow/media";
import { describe, expect, startFakeOpenAi, test } from "@callflow/testkit";
import { createOpenAiTranscriber } from "../src/speech-to-text/openai/openai-transcriber.ts";
import { createProviderPolicy, DEFAULT_POLICY } from "../src/speech-to-text/provider-policy.ts";
import type { ProviderLimits } from "../src/speech-to-text/port.ts";
import { buildHandler, delivery, outboxEvents, seedChunk, toneFile } from "./support/harness.ts";

const MB = 1024 * 1024;
const BYTES_PER_SECOND = 16_000; // 128 kbit/s

/** A 30-minute recording: a tone encoded as 128 kbit/s mono MP3 (about 29 MB, a few seconds of CPU). */
async function thirtyMinuteMp3(): Promise<string> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), "callflow-long-")), "call.mp3");
  await runMediaTool(
    "ffmpeg",
    ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=16000:duration=1800", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "128k", "-compression_level", "9", file],
    { timeoutMs: 120_000 },
  );
  return file;
}

const openAi = (baseURL: string, limits: ProviderLimits) =>
  createOpenAiTranscriber({
    baseURL,
    apiKey: "test-openai-key",
    model: "whisper-1",
    limits,
    timeoutBaseMs: 10_000,
    timeoutPerAudioSecondMs: 0,
    policy: createProviderPolicy({ ...DEFAULT_POLICY, provider: "openai" }),
  });

describe("splitting audio over a provider's limit", () => {
  test("splits a 30-minute recording under a 25 MB limit into verified parts whose transcripts run monotonic", async ({ database, storage }) => {
    // The fake answers one segment per minute of the part it receives, in the part's own time.
    const fake = await startFakeOpenAi({
      transcript: (request) => {
        const minutes = Math.floor(request.fileBytes / BYTES_PER_SECOND / 60);
        return { segments: Array.from({ length: minutes }, (_, m) => ({ start: m * 60 + 1, end: m * 60 + 59, text: `minute ${m}` })) };
      },
    });
    try {
      const seeded = await seedChunk(database.db, storage, { audioPath: await thirtyMinuteMp3(), contentType: "audio/mpeg" });
      const { handler } = buildHandler(database.db, storage, openAi(fake.baseURL, { maxBytes: 25 * MB }));
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "split into 2 parts" });
      expect(fake.requests).toHaveLength(0);

      const original = await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } });
      expect(original.status).toBe("superseded");
      const parts = await database.db.chunk.findMany({ where: { parentChunkId: seeded.chunkId }, orderBy: { startOffsetSeconds: "asc" } });
      expect(parts).toHaveLength(2);
      const total = parts.reduce((sum, part) => sum + part.durationSeconds!, 0);
      expect(Math.abs(total - 1800)).toBeLessThan(0.5);
      expect(parts[0]!.startOffsetSeconds).toBe(0);
      expect(parts[1]!.startOffsetSeconds).toBeCloseTo(parts[0]!.durationSeconds!, 6);
      for (const part of parts) {
        expect(part).toMatchObject({ status: "queued", callId: seeded.callId, contentType: "audio/mpeg" });
        const head = await storage.store.head(part.objectKey);
        expect(head!.size).toBe(Number(part.sizeBytes));
        expect(head!.size).toBeLessThan(25 * MB);
      }
      expect((await outboxEvents(database.db, "chunkReady")).map((e) => e.chunkId).sort()).toEqual(parts.map((p) => p.id).sort());
      expect(await storage.store.head(seeded.objectKey)).not.toBeNull();

      for (const part of parts) expect(await handler({ chunkId: part.id }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });
      expect(fake.requests.every((r) => r.fileBytes < 25 * MB)).toBe(true);
      const transcribed = await database.db.chunk.findMany({ where: { parentChunkId: seeded.chunkId }, orderBy: { startOffsetSeconds: "asc" } });
      const starts = transcribed.flatMap((part) => (part.segments as { start: number }[]).map((segment) => segment.start));
      expect(starts.length).toBeGreaterThanOrEqual(28);
      for (let i = 1; i < starts.length; i++) expect(starts[i]!).toBeGreaterThan(starts[i - 1]!);
      expect(starts.at(-1)!).toBeGreaterThan(1700);
    } finally {
      await fake.close();
    }
  });

  test("deletes the original only after its parts are committed, when retention says so", async ({ database, storage }) => {
    const fake = await startFakeOpenAi();
    try {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile(10), startOffsetSeconds: 120 });
      const { handler } = buildHandler(database.db, storage, openAi(fake.baseURL, { maxDurationSeconds: 4 }), { deleteSplitOriginals: true });
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "split into 4 parts" });
      const parts = await database.db.chunk.findMany({ where: { parentChunkId: seeded.chunkId }, orderBy: { startOffsetSeconds: "asc" } });
      // Offsets follow the probed durations of the parts actually cut (packet boundaries), not the nominal 3 s.
      [120, 123, 126, 129].forEach((offset, i) => expect(Math.abs(parts[i]!.startOffsetSeconds - offset)).toBeLessThan(0.2));
      expect(parts[3]!.startOffsetSeconds + parts[3]!.durationSeconds!).toBeCloseTo(130, 1);
      expect(parts.map((p) => p.index)).toEqual([100_000, 100_001, 100_002, 100_003]);
      expect(await storage.store.head(seeded.objectKey)).toBeNull();
    } finally {
      await fake.close();
    }
  });
});
