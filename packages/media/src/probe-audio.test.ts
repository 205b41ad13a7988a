import { createReadStream } from "node:fs";
import { stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir, tone, tools } from "../test/fixtures.ts";
import { MediaToolError } from "./media-tool-error.ts";
import { probeAudio } from "./probe-audio.ts";
import { runMediaTool } from "./run-media-tool.ts";

describe("probeAudio", () => {
  it("reads a WAV's duration, container, codec, rate, channels and size", async () => {
    const wav = await tone(await scratchDir(), "tone", { seconds: 1.5 });
    expect(await probeAudio(tools, wav)).toEqual({
      durationSeconds: 1.5,
      formatName: "wav",
      codec: "pcm_s16le",
      sampleRateHz: 16_000,
      channels: 1,
      sizeBytes: (await stat(wav)).size,
    });
  });

  it("rejects a corrupt file, with ffprobe's reason", async () => {
    const corrupt = path.join(await scratchDir(), "corrupt.wav");
    await writeFile(corrupt, Buffer.from(Array.from({ length: 8_192 }, (_, n) => (n * 7919) % 251)));
    const error = await probeAudio(tools, corrupt).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(MediaToolError);
    expect(error).toMatchObject({ tool: "ffprobe", failure: "rejected", rejectedInput: true });
    expect((error as MediaToolError).stderrTail).toMatch(/Invalid data found when processing input/);
  });

  it("rejects a file ffprobe can read that holds no audio", async () => {
    const image = path.join(await scratchDir(), "frame.png");
    await runMediaTool("ffmpeg", ["-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", image], { timeoutMs: 30_000 });
    await expect(probeAudio(tools, image)).rejects.toMatchObject({ failure: "rejected", exitCode: 0, message: "ffprobe read the input but found no audio stream" });
  });

  it("times a WebM written without a duration (as browsers' MediaRecorder does) by its last packet", async () => {
    const dir = await scratchDir();
    const wav = await tone(dir, "tone", { seconds: 2 });
    const webm = path.join(dir, "recorder.webm");
    // Written to a pipe, the muxer cannot seek back to fill in the duration.
    await runMediaTool("sh", ["-c", `ffmpeg -nostdin -v error -i "${wav}" -c:a libopus -f webm pipe:1 > "${webm}"`], { timeoutMs: 30_000 });
    const probed = await probeAudio(tools, webm);
    expect(probed).toMatchObject({ formatName: "matroska,webm", codec: "opus", channels: 1 });
    expect(probed.durationSeconds).toBeCloseTo(2, 1);
  });

  it("probes a URL without downloading it first, and says nothing of a size it did not measure", async () => {
    const wav = await tone(await scratchDir(), "tone", { seconds: 1 });
    const { size } = await stat(wav);
    const server = createServer((_, response) => {
      response.writeHead(200, { "content-type": "audio/wav", "content-length": size });
      createReadStream(wav).pipe(response);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const probed = await probeAudio(tools, new URL(`http://127.0.0.1:${port}/tone.wav?X-Amz-Signature=abc`));
      expect(probed).toEqual({ durationSeconds: 1, formatName: "wav", codec: "pcm_s16le", sampleRateHz: 16_000, channels: 1 });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("fails as not started when ffprobe is missing: the worker's problem, not the audio's", async () => {
    const wav = await tone(await scratchDir(), "tone", { seconds: 1 });
    await expect(probeAudio({ ffprobe: "/nonexistent/ffprobe", timeoutMs: 30_000 }, wav)).rejects.toMatchObject({ failure: "not_started", rejectedInput: false });
  });
});
