import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runMediaTool } from "@callflow/media";
import { describe, expect, startFakeOpenAi, test } from "@callflow/testkit";
import { createOpenAiTranscriber } from "../src/speech-to-text/openai/openai-transcriber.ts";
import { createProviderPolicy, DEFAULT_POLICY } from "../src/speech-to-text/provider-policy.ts";
import type { ProviderLimits } from "../src/speech-to-text/port.ts";
import { buildHandler, delivery, outboxEvents, seedChunk, toneFile, tools } from "./support/harness.ts";

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

/**
 * The real ffmpeg, except that a segment run loses its last part: the parts that remain are valid
 * audio each, but no longer add up to the original.
 */
async function ffmpegDroppingLastPart(): Promise<string> {
  const script = path.join(await mkdtemp(path.join(tmpdir(), "callflow-ffmpeg-")), "ffmpeg");
  await writeFile(
    script,
    [
      "#!/bin/sh",
      `${tools.ffmpeg} "$@" || exit $?`,
      'for output in "$@"; do :; done',
      'case "$output" in */part-%04d.*) rm -f "$(ls "$(dirname "$output")"/part-* | tail -n 1)" ;; esac',
      "",
    ].join("\n"),
  );
  await chmod(script, 0o755);
  return script;
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

  test("parts that do not add up to the original keep the original, and on the last delivery fail the chunk as split_verification_failed", async ({ database, storage }) => {
    const fake = await startFakeOpenAi();
    try {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile(10) });
      const { handler } = buildHandler(database.db, storage, openAi(fake.baseURL, { maxDurationSeconds: 4 }), {
        tools: { ...tools, ffmpeg: await ffmpegDroppingLastPart() },
        deleteSplitOriginals: true,
      });

      // An earlier delivery releases the chunk for another try: another split may verify.
      expect(await handler({ chunkId: seeded.chunkId }, delivery(1, 5))).toMatchObject({ kind: "retry", reason: expect.stringContaining("split_verification_failed") });
      expect(await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } })).toMatchObject({ status: "queued", errorCode: "split_verification_failed" });

      expect(await handler({ chunkId: seeded.chunkId }, delivery(5, 5))).toMatchObject({ kind: "ack", reason: "the chunk failed: split_verification_failed" });
      const chunk = await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } });
      expect(chunk).toMatchObject({ status: "failed", errorCode: "split_verification_failed" });
      expect(chunk.errorMessage).toMatch(/parts add up to 9\.\d+ s, the original is 10\.000 s/);
      expect(chunk.errorMessage).toContain("gave up after 5 deliveries");
      expect(await database.db.chunk.count({ where: { parentChunkId: seeded.chunkId } })).toBe(0);
      expect(await outboxEvents(database.db, "chunkReady")).toHaveLength(0);
      // Verify before destroy: even with retention set to delete split originals, the original stays.
      expect(await storage.store.head(seeded.objectKey)).not.toBeNull();
      expect(fake.requests).toHaveLength(0);
    } finally {
      await fake.close();
    }
  });
});
