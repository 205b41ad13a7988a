import { mkdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir, tone, tools } from "../test/fixtures.ts";
import { probeAudio } from "./probe-audio.ts";
import { segmentAudio } from "./segment-audio.ts";

describe("segmentAudio", () => {
  it("cuts a recording into parts of the given length, returned in order, that add up to the whole", async () => {
    const dir = await scratchDir();
    const source = await tone(dir, "long", { seconds: 10 });
    const outDir = path.join(dir, "parts");
    await mkdir(outDir);
    const parts = await segmentAudio({ tools, input: source, seconds: 3, outDir, extension: "wav" });
    expect(parts.map((part) => path.basename(part))).toEqual(["part-0000.wav", "part-0001.wav", "part-0002.wav", "part-0003.wav"]);
    const durations = await Promise.all(parts.map(async (part) => (await probeAudio(tools, part)).durationSeconds));
    expect(durations.slice(0, 3).every((seconds) => Math.abs(seconds - 3) < 0.1)).toBe(true);
    expect(durations.reduce((sum, seconds) => sum + seconds, 0)).toBeCloseTo(10, 1);
  });
});
