import path from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir, tone, tools } from "../test/fixtures.ts";
import { concatenateAudio } from "./concatenate-audio.ts";
import { probeAudio } from "./probe-audio.ts";

describe("concatenateAudio", () => {
  it("joins inputs of different containers and rates into one file at the encoding's rate and channels", async () => {
    const dir = await scratchDir();
    const inputs = [await tone(dir, "first", { seconds: 1, rate: 8_000, extension: "ogg" }), await tone(dir, "second", { seconds: 2, rate: 22_050 })];
    const output = path.join(dir, "joined.flac");
    await concatenateAudio({ tools, inputs, output, encoding: { sampleRateHz: 16_000, channels: 1, encoderArgs: ["-c:a", "flac", "-f", "flac"] } });
    const probed = await probeAudio(tools, output);
    expect(probed).toMatchObject({ formatName: "flac", codec: "flac", sampleRateHz: 16_000, channels: 1 });
    expect(probed.durationSeconds).toBeCloseTo(3, 1);
  });
});
