import { describe, expect, it } from "vitest";
import { callPhase, type PhaseCallFacts, type PhaseStageFacts } from "./phase.ts";

const t0 = new Date("2026-01-01T12:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const call = (status: PhaseCallFacts["status"], extra: Partial<PhaseCallFacts> = {}): PhaseCallFacts => ({ status, audioVersion: 1, createdAt: t0, settledAt: null, ...extra });
const stage = (name: string, status: string, times: { queued: number; started?: number; finished?: number }, audioVersion = 1): PhaseStageFacts => ({
  stage: name,
  audioVersion,
  status,
  createdAt: at(times.queued),
  startedAt: times.started === undefined ? null : at(times.started),
  finishedAt: times.finished === undefined ? null : at(times.finished),
});

describe("callPhase", () => {
  it("is uploading while audio still arrives, and counts the time since the call began", () => {
    expect(callPhase(call("uploading"), [], at(30))).toEqual({ phase: "uploading", phases: [{ phase: "uploading", startedAt: t0, finishedAt: null, durationMs: 30_000 }] });
  });

  it("is uploaded while no worker has taken the transcription yet", () => {
    const view = callPhase(call("processing"), [stage("transcription", "queued", { queued: 2 })], at(62));
    expect(view.phase).toBe("uploaded");
    expect(view.phases).toEqual([
      { phase: "uploading", startedAt: t0, finishedAt: at(2), durationMs: 2_000 },
      { phase: "uploaded", startedAt: at(2), finishedAt: null, durationMs: 60_000 },
    ]);
  });

  it("is transcribing from the first chunk's claim, then summarizing, then merging while only the merge is open", () => {
    const transcribing = [stage("transcription", "running", { queued: 0, started: 5 })];
    expect(callPhase(call("processing"), transcribing, at(20)).phase).toBe("transcribing");

    const transcribed = stage("transcription", "succeeded", { queued: 0, started: 5, finished: 65 });
    const both = [transcribed, stage("summary", "running", { queued: 65, started: 66 }), stage("merge", "running", { queued: 65, started: 66 })];
    expect(callPhase(call("processing"), both, at(70)).phase).toBe("summarizing");

    const mergeLeft = [transcribed, stage("summary", "succeeded", { queued: 65, started: 66, finished: 80 }), stage("merge", "running", { queued: 65, started: 66 })];
    const view = callPhase(call("processing"), mergeLeft, at(90));
    expect(view.phase).toBe("merging");
    expect(view.phases.map((p) => [p.phase, p.durationMs, p.finishedAt])).toEqual([
      ["uploading", 0, t0],
      ["uploaded", 5_000, at(5)],
      ["transcribing", 60_000, at(65)],
      ["summarizing", 15_000, at(80)],
      ["merging", 25_000, null],
    ]);
  });

  it("is completed or failed once the call is, and closes the phases a failure overtook at that moment", () => {
    const rows = [stage("transcription", "succeeded", { queued: 0, started: 1, finished: 11 }), stage("summary", "failed", { queued: 11, finished: 20 }), stage("merge", "running", { queued: 11, started: 12 })];
    const view = callPhase(call("failed", { settledAt: at(20) }), rows, at(500));
    expect(view.phase).toBe("failed");
    expect(view.phases.at(-1)).toEqual({ phase: "merging", startedAt: at(11), finishedAt: at(20), durationMs: 9_000 });
    expect(callPhase(call("completed", { settledAt: at(30) }), rows, at(500)).phase).toBe("completed");
  });

  it("looks only at the current audio version's stages", () => {
    const rows = [stage("transcription", "succeeded", { queued: 0, started: 1, finished: 11 }), stage("summary", "succeeded", { queued: 11, finished: 20 }), stage("transcription", "queued", { queued: 100 }, 2)];
    const view = callPhase(call("processing", { audioVersion: 2 }), rows, at(110));
    expect(view).toEqual({ phase: "uploaded", phases: [{ phase: "uploaded", startedAt: at(100), finishedAt: null, durationMs: 10_000 }] });
  });
});
