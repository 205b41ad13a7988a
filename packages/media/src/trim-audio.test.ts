import { createWriteStream } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { scratchDir, tone, tools } from "../test/fixtures.ts";
import { probeAudio } from "./probe-audio.ts";
import { trimAudio } from "./trim-audio.ts";

describe("trimAudio", () => {
  it("streams the requested section as Ogg FLAC", async () => {
    const dir = await scratchDir();
    const source = await tone(dir, "call", { seconds: 3, extension: "mp3" });
    const cut = trimAudio(tools, source, { startSeconds: 0.5, endSeconds: 2 });
    const file = path.join(dir, "cut.ogg");
    await Promise.all([pipeline(cut.output, createWriteStream(file)), cut.done]);
    const probed = await probeAudio(tools, file);
    expect(probed).toMatchObject({ formatName: "ogg", codec: "flac" });
    expect(probed.durationSeconds).toBeCloseTo(1.5, 1);
  });

  it("rejects `done` with ffmpeg's refusal when the source cannot be read", async () => {
    const cut = trimAudio(tools, path.join(await scratchDir(), "missing.wav"), { startSeconds: 0, endSeconds: 1 });
    cut.output.resume();
    await expect(cut.done).rejects.toMatchObject({ tool: "ffmpeg", failure: "rejected" });
  });
});
