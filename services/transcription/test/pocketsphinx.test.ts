import { stat } from "node:fs/promises";
import { probeAudio } from "@callflow/media";
import { describe, expect, it } from "vitest";
import { createPocketsphinx } from "../src/speech-to-text/local/pocketsphinx.ts";
import { synthesizeSpeech } from "./support/speech.ts";
import { wordErrorRate } from "@callflow/testkit";

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
