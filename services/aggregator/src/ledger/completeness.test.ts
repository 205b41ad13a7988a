import { describe, expect, it } from "vitest";
import { evaluateCompleteness, type LedgerChunk } from "./completeness.ts";

const chunk = (index: number, status: LedgerChunk["status"], extra: Partial<LedgerChunk> = {}): LedgerChunk => ({
  id: `c${index}`,
  index,
  parentChunkId: null,
  status,
  startOffsetSeconds: index * 10,
  errorCode: null,
  errorMessage: null,
  ...extra,
});

describe("evaluateCompleteness", () => {
  it("waits while the upload is not finished, even with every chunk transcribed", () => {
    const verdict = evaluateCompleteness({ uploadFinished: false, expectedChunkCount: null, policy: "fail", chunks: [chunk(0, "transcribed")] });
    expect(verdict).toMatchObject({ state: "pending", reason: "the upload is not finished" });
  });

  it("waits for a chunk that has not arrived and for one still running", () => {
    const base = { uploadFinished: true, expectedChunkCount: 3, policy: "fail" as const };
    expect(evaluateCompleteness({ ...base, chunks: [chunk(0, "transcribed"), chunk(2, "transcribed")] })).toMatchObject({ reason: "chunk 1 has not arrived" });
    expect(evaluateCompleteness({ ...base, chunks: [chunk(0, "transcribed"), chunk(1, "running"), chunk(2, "transcribed")] })).toMatchObject({
      reason: "chunk 1 is running",
    });
  });

  it("is complete in chunk order once every chunk is transcribed", () => {
    const verdict = evaluateCompleteness({
      uploadFinished: true,
      expectedChunkCount: 3,
      policy: "fail",
      chunks: [chunk(2, "transcribed"), chunk(0, "transcribed"), chunk(1, "transcribed")],
    });
    expect(verdict.state).toBe("complete");
    if (verdict.state === "complete") expect(verdict.transcribed.map((t) => t.chunk.index)).toEqual([0, 1, 2]);
  });

  it("counts a superseded chunk's parts in its place, ordered by offset, and waits for all of them", () => {
    const parts = [
      chunk(100_001, "transcribed", { id: "p2", parentChunkId: "c1", startOffsetSeconds: 15 }),
      chunk(100_000, "transcribed", { id: "p1", parentChunkId: "c1", startOffsetSeconds: 10 }),
    ];
    const chunks = [chunk(0, "transcribed"), chunk(1, "superseded"), chunk(2, "transcribed"), ...parts];
    const verdict = evaluateCompleteness({ uploadFinished: true, expectedChunkCount: 3, policy: "fail", chunks });
    expect(verdict.state).toBe("complete");
    if (verdict.state === "complete") {
      expect(verdict.transcribed.map((t) => [t.chunk.id, t.index])).toEqual([["c0", 0], ["p1", 1], ["p2", 1], ["c2", 2]]);
    }
    const running = chunks.map((c) => (c.id === "p2" ? { ...c, status: "running" as const } : c));
    expect(evaluateCompleteness({ uploadFinished: true, expectedChunkCount: 3, policy: "fail", chunks: running })).toMatchObject({ state: "pending", reason: "chunk 1 is running" });
  });

  it("never completes on a superseded chunk without parts", () => {
    const verdict = evaluateCompleteness({ uploadFinished: true, expectedChunkCount: 1, policy: "fail", chunks: [chunk(0, "superseded")] });
    expect(verdict.state).toBe("pending");
  });

  it("fails at once under the fail policy, naming the chunk, even before the upload is finished", () => {
    const failed = chunk(1, "failed", { errorCode: "provider_rejected", errorMessage: "bad audio" });
    const verdict = evaluateCompleteness({ uploadFinished: false, expectedChunkCount: null, policy: "fail", chunks: [chunk(0, "running"), failed] });
    expect(verdict).toEqual({ state: "failed", failed: { index: 1, chunkId: "c1", errorCode: "provider_rejected", errorMessage: "bad audio" } });
  });

  it("under the partial policy waits for the rest and lists the failed index once, even for two failed parts", () => {
    const chunks = [
      chunk(0, "superseded"),
      chunk(100_000, "failed", { id: "p1", parentChunkId: "c0", startOffsetSeconds: 0, errorCode: "provider_timeout" }),
      chunk(100_001, "failed", { id: "p2", parentChunkId: "c0", startOffsetSeconds: 5, errorCode: "provider_timeout" }),
      chunk(1, "queued"),
    ];
    const base = { uploadFinished: true, expectedChunkCount: 2, policy: "partial" as const };
    expect(evaluateCompleteness({ ...base, chunks }).state).toBe("pending");
    const done = chunks.map((c) => (c.id === "c1" ? { ...c, status: "transcribed" as const } : c));
    const verdict = evaluateCompleteness({ ...base, chunks: done });
    expect(verdict.state).toBe("complete");
    if (verdict.state === "complete") {
      expect(verdict.missing.map((m) => m.index)).toEqual([0]);
      expect(verdict.transcribed.map((t) => t.chunk.id)).toEqual(["c1"]);
    }
  });
});
