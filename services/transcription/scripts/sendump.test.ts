import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_POCKETSPHINX_MODEL_DIR } from "../src/speech-to-text/local/pocketsphinx.ts";
import { mixtureWeightsFromSendump } from "./sendump.ts";

describe("mixture weights rebuilt from pocketsphinx's sendump", () => {
  it("writes a Sphinx-III mixture_weights file: one distribution over 128 codewords per senone and stream", async () => {
    const file = mixtureWeightsFromSendump(await readFile(path.join(DEFAULT_POCKETSPHINX_MODEL_DIR, "sendump")));
    const headerEnd = file.indexOf("endhdr\n") + "endhdr\n".length;
    expect(file.toString("latin1", 0, 3)).toBe("s3\n");
    expect(headerEnd % 4).toBe(0);
    const [magic, senones, streams, codewords, count] = [0, 4, 8, 12, 16].map((at) => file.readUInt32LE(headerEnd + at));
    expect(magic).toBe(0x11223344);
    // The en-us model's mdef: 5126 senones; its PTM codebooks: 3 streams of 128 Gaussians.
    expect([senones, streams, codewords, count]).toEqual([5126, 3, 128, 5126 * 3 * 128]);
    const weights = new Float32Array(file.buffer.slice(file.byteOffset + headerEnd + 20, file.byteOffset + file.length));
    expect(weights.length).toBe(count);
    for (const distribution of [0, 1, 5126 * 3 - 1].map((n) => weights.subarray(n * 128, (n + 1) * 128))) {
      expect(distribution.reduce((sum, weight) => sum + weight, 0)).toBeCloseTo(1, 4);
      expect(Math.max(...distribution)).toBeGreaterThan(1 / 128);
    }
  });

  it("refuses a file that is not a sendump", () => {
    const notSendump = Buffer.alloc(64, 0xff);
    expect(() => mixtureWeightsFromSendump(notSendump)).toThrow(/not a little-endian sendump/);
  });
});
