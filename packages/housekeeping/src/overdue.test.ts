import { describe, expect, it } from "vitest";
import { classifyStageRow, decideOverdue } from "./overdue.ts";
import { DEFAULT_POLICY } from "./policy.ts";
import { planAbandonedUpload } from "./sweeps/abandoned-uploads.ts";

const now = new Date("2026-01-01T12:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);
const d = { queuedMs: 60_000, heartbeatMs: 30_000, maxRunMs: 100_000, maxRunPerAudioSecondMs: 1_000, maxRunCapMs: 3_600_000 };
const row = { createdAt: ago(1_000_000), updatedAt: ago(1_000_000), startedAt: null, heartbeatAt: null, audioSeconds: 10 };

describe("classifyStageRow", () => {
  it("counts a queued row's deadline from its last write, so a re-drive restarts it", () => {
    expect(classifyStageRow({ ...row, status: "queued" }, d, now)?.reason).toBe("queued_unclaimed");
    expect(classifyStageRow({ ...row, status: "queued", updatedAt: ago(59_000) }, d, now)).toBeNull();
  });
  it("tells a lost worker from a hung one by the heartbeat, and scales the run limit by the audio", () => {
    expect(classifyStageRow({ ...row, status: "running", startedAt: ago(50_000), heartbeatAt: ago(31_000) }, d, now)?.reason).toBe("heartbeat_lost");
    expect(classifyStageRow({ ...row, status: "running", startedAt: ago(111_000), heartbeatAt: ago(1_000) }, d, now)?.reason).toBe("run_timeout");
    expect(classifyStageRow({ ...row, status: "running", startedAt: ago(109_000), heartbeatAt: ago(1_000) }, d, now)).toBeNull();
    expect(classifyStageRow({ ...row, status: "running" }, d, now)?.reason).toBe("running_without_start");
    expect(classifyStageRow({ ...row, status: "succeeded" }, d, now)).toBeNull();
  });
});

describe("decideOverdue", () => {
  const overdue = (reason: "queued_unclaimed" | "heartbeat_lost" | "run_timeout") => ({ reason, since: ago(1), deadlineMs: 1 });
  const facts = { redrives: 0, maxRedrives: 2, callActive: true, what: "chunk 0" };
  it("re-drives until the limit, then fails with the code that says why", () => {
    expect(decideOverdue(overdue("queued_unclaimed"), facts)).toEqual({ action: "redrive" });
    expect(decideOverdue(overdue("queued_unclaimed"), { ...facts, redrives: 2 })).toMatchObject({ action: "fail", errorCode: "worker_not_processing_queue" });
    expect(decideOverdue(overdue("heartbeat_lost"), { ...facts, redrives: 2 })).toMatchObject({ action: "fail", errorCode: "stage_timeout" });
  });
  it("fails a run over its time limit at once: provider_timeout with a provider job, stage_timeout without", () => {
    expect(decideOverdue(overdue("run_timeout"), { ...facts, providerJobId: "j1" })).toMatchObject({ errorCode: "provider_timeout" });
    expect(decideOverdue(overdue("run_timeout"), facts)).toMatchObject({ errorCode: "stage_timeout" });
    expect(decideOverdue(overdue("queued_unclaimed"), { ...facts, callActive: false })).toMatchObject({ errorCode: "call_not_active" });
  });
});

describe("planAbandonedUpload", () => {
  const chunk = (index: number, status = "queued") => ({ index, status, durationSeconds: 2, sizeBytes: 10n });
  it("finishes with the chunks that arrived when they are whole", () => {
    expect(planAbandonedUpload([chunk(0), chunk(1)], "finish", now)).toEqual({ action: "finish", chunkCount: 2, durationSeconds: 4, sizeBytes: 20n });
  });
  it("fails when finishing could never settle, or when the policy says so", () => {
    expect(planAbandonedUpload([], "finish", now)).toMatchObject({ action: "fail" });
    expect(planAbandonedUpload([chunk(0), chunk(2)], "finish", now)).toMatchObject({ action: "fail", errorMessage: expect.stringContaining("chunks 1 missing") });
    expect(planAbandonedUpload([chunk(0, "uploading")], "finish", now)).toMatchObject({ action: "fail", errorMessage: expect.stringContaining("still uploading") });
    expect(planAbandonedUpload([chunk(0)], "fail", now)).toMatchObject({ action: "fail" });
  });
  it("keeps the default policy's deadlines in order", () => {
    expect(DEFAULT_POLICY.stages.transcription.heartbeatMs).toBeLessThan(DEFAULT_POLICY.stages.transcription.maxRunMs);
  });
});
