import { stat } from "node:fs/promises";
import { probeAudio } from "@callflow/media";
import { describe, expect, it } from "vitest";
import { createPocketsphinx } from "../src/speech-to-text/local/pocketsphinx.ts";
import { synthesizeSpeech } from "./support/speech.ts";
import { test, wordErrorRate } from "@callflow/testkit";
import { redactPii } from "@callflow/call-lifecycle/redact-pii";
import { buildHandler, delivery, seedChunk } from "./support/harness.ts";

const tools = { ffmpeg: "ffmpeg", ffprobe: "ffprobe", timeoutMs: 30_000 };
const SCRIPT = "The quick brown fox jumps over the lazy dog. Please call me tomorrow morning about the new contract.";

describe("the local pocketsphinx adapter", () => {
  it("transcribes festival speech of a known script with a word error rate of at most 20%", async () => {
    const wav = await synthesizeSpeech(SCRIPT);
    const audio = { path: wav, ...(await probeAudio(tools, wav)) };
    const stt = createPocketsphinx({ tools, binary: "pocketsphinx_continuous", timeoutBaseMs: 30_000, timeoutPerAudioSecondMs: 3_000, maxDurationSeconds: 600 });
    let heartbeats = 0;
    const result = await stt.transcribe(audio, { signal: new AbortController().signal, heartbeat: () => heartbeats++ });

    const wer = wordErrorRate(SCRIPT, result.text);
    expect(wer, `hypothesis: "${result.text}"`).toBeLessThanOrEqual(0.2);
    expect(heartbeats).toBeGreaterThan(0);
    const words = result.segments.flatMap((segment) => segment.words ?? []);
    expect(words.length).toBeGreaterThan(10);
    for (let i = 1; i < words.length; i++) expect(words[i]!.start).toBeGreaterThanOrEqual(words[i - 1]!.end);
    expect(words.at(-1)!.end).toBeLessThanOrEqual(audio.durationSeconds + 0.05);
    expect((await stat(wav)).size).toBe(audio.sizeBytes);
  });

  it("refuses audio it cannot decode as unsupported, a permanent error", async () => {
    const { writeFile, mkdtemp } = await import("node:fs/promises");
    const path = await import("node:path");
    const { tmpdir } = await import("node:os");
    const file = path.join(await mkdtemp(path.join(tmpdir(), "callflow-bad-")), "noise.mp3");
    await writeFile(file, "this is not audio at all");
    const stt = createPocketsphinx({ tools, binary: "pocketsphinx_continuous", timeoutBaseMs: 5_000, timeoutPerAudioSecondMs: 0, maxDurationSeconds: 600 });
    await expect(stt.transcribe({ path: file, sizeBytes: 24, durationSeconds: 1 }, { signal: new AbortController().signal, heartbeat: () => {} })).rejects.toMatchObject({
      code: "unsupported_audio",
      retryable: false,
    });
  });
});

describe("PII redaction of the local path's result", () => {
  const SPOKEN = "Hello, my name is John Smith. Please call me back on five five five, one two three, four five six seven. My account number is four four three three two two one one. Thank you.";

  test("a call that redacts stores what pocketsphinx heard with the name and numbers replaced; one that does not, untouched", async ({ database, storage }) => {
    const wav = await synthesizeSpeech(SPOKEN);
    const stt = createPocketsphinx({ tools, binary: "pocketsphinx_continuous", timeoutBaseMs: 30_000, timeoutPerAudioSecondMs: 3_000, maxDurationSeconds: 600 });
    const { handler } = buildHandler(database.db, storage, stt);
    const redacted = await seedChunk(database.db, storage, { audioPath: wav, redactPii: true });
    const untouched = await seedChunk(database.db, storage, { audioPath: wav, redactPii: false });
    await Promise.all([redacted, untouched].map(async (seeded) => expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" })));
    const stored = async (chunkId: string) => (await database.db.chunk.findUniqueOrThrow({ where: { id: chunkId } })).text ?? "";

    const heard = await stored(untouched.chunkId);
    // What the recogniser heard, PII and all (its text is deterministic for the same audio).
    expect(heard).toContain("john smith");
    expect(heard).toContain("five five five one two three four five six seven");
    expect(heard).toContain("account number is four four three three");

    const text = await stored(redacted.chunkId);
    expect(text).toBe(redactPii(heard));
    expect(text).toContain("[PERSON_NAME]");
    expect(text).toContain("[PHONE_NUMBER]");
    expect(text).toContain("[ACCOUNT_NUMBER]");
    expect(text).not.toMatch(/john|smith/);
    // No run of digits of phone length survives, written or spoken.
    expect(text).not.toMatch(/\b(?:(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|\d)\s+){6,}/);
  }, 120_000);
});
