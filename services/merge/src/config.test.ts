import { describe, expect, it } from "vitest";
import { availableParallelism } from "node:os";
import { mergeConfigFromEnv } from "./config.ts";

describe("merge configuration", () => {
  it("runs locally with no variables set: FLAC, chunks kept, max(0.25 s, 1 %) tolerance", () => {
    const config = mergeConfigFromEnv({});
    expect(config).toMatchObject({ opsPort: 9104, outputFormat: "flac", deleteChunks: false, tolerance: { seconds: 0.25, fraction: 0.01 } });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("runs one merge per core plus one unless CALLFLOW_MERGE_CONCURRENCY says otherwise", () => {
    expect(mergeConfigFromEnv({}).concurrency).toBe(availableParallelism() + 1);
    expect(mergeConfigFromEnv({ CALLFLOW_MERGE_CONCURRENCY: "1" }).concurrency).toBe(1);
  });

  it("names the variable that is wrong", () => {
    expect(() => mergeConfigFromEnv({ CALLFLOW_MERGE_OUTPUT_FORMAT: "aiff" })).toThrow(/CALLFLOW_MERGE_OUTPUT_FORMAT/);
    expect(() => mergeConfigFromEnv({ CALLFLOW_MERGE_DURATION_TOLERANCE_PERCENT: "150" })).toThrow(/CALLFLOW_MERGE_DURATION_TOLERANCE_PERCENT/);
    expect(() => mergeConfigFromEnv({ CALLFLOW_MERGE_DELETE_CHUNKS: "sometimes" })).toThrow(/CALLFLOW_MERGE_DELETE_CHUNKS/);
  });
});
