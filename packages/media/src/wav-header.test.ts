import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { scratchDir, tone, tools } from "../test/fixtures.ts";
import { probeAudio, probeAudioFile } from "./probe-audio.ts";
import { runMediaTool } from "./run-media-tool.ts";
import { readWavHeader } from "./wav-header.ts";

const header = (bytes: Buffer) => readWavHeader(bytes, bytes.length);

describe("readWavHeader", () => {
  it("reads the same duration, rate, channels and codec ffprobe does, for PCM, stereo and µ-law WAVs", async () => {
    const dir = await scratchDir();
    const pcm = await tone(dir, "pcm", { seconds: 1.5 });
    const stereo = path.join(dir, "stereo.wav");
    await runMediaTool("sox", ["-n", "-r", "8000", "-c", "2", "-b", "16", stereo, "synth", "0.75", "sine", "440"], { timeoutMs: 30_000 });
    const ulaw = path.join(dir, "ulaw.wav");
    await runMediaTool("sox", [pcm, "-r", "8000", "-e", "u-law", ulaw], { timeoutMs: 30_000 });
    for (const file of [pcm, stereo, ulaw]) {
      // A URL, even file://, is always ffprobe's to read.
      const probed = await probeAudio(tools, pathToFileURL(file));
      expect(header(await readFile(file))).toMatchObject({ durationSeconds: probed.durationSeconds, sampleRateHz: probed.sampleRateHz, channels: probed.channels, codec: probed.codec });
    }
  });

  it("counts only the data the file holds when the header claims more", async () => {
    const wav = await readFile(await tone(await scratchDir(), "tone", { seconds: 1 }));
    // 16 kHz mono 16-bit: half a second is 16,000 bytes after the 44-byte header.
    expect(header(wav.subarray(0, 44 + 16_000))?.durationSeconds).toBe(0.5);
  });

  it("leaves to ffprobe what it cannot read plainly: noise after the magic, no data, a streamed length, another container", async () => {
    const wav = await readFile(await tone(await scratchDir(), "tone", { seconds: 1 }));
    expect(header(Buffer.concat([wav.subarray(0, 12), Buffer.alloc(4000, 0x5a)]))).toBeUndefined();
    expect(header(wav.subarray(0, 44))).toBeUndefined();
    const streamed = Buffer.from(wav);
    streamed.writeUInt32LE(0xffffffff, 40);
    expect(header(streamed)).toBeUndefined();
    const inconsistent = Buffer.from(wav);
    inconsistent.writeUInt32LE(12_345, 28);
    expect(header(inconsistent)).toBeUndefined();
    expect(header(Buffer.from("OggS\0\0\0\0\0\0\0\0\0\0\0\0"))).toBeUndefined();
  });
});

describe("probeAudioFile", () => {
  it("answers for a plain WAV without ffprobe, and asks ffprobe for anything else", async () => {
    const dir = await scratchDir();
    const wav = await tone(dir, "tone", { seconds: 1.5 });
    const missing = { ...tools, ffprobe: "/nonexistent/ffprobe" };
    expect(await probeAudioFile(missing, wav)).toEqual(await probeAudio(tools, wav));
    const mp3 = await tone(dir, "tone", { seconds: 1, extension: "mp3" });
    await expect(probeAudioFile(missing, mp3)).rejects.toMatchObject({ failure: "not_started" });
    expect((await probeAudioFile(tools, mp3)).codec).toBe("mp3");
  });
});
