import { describe, expect, it } from "vitest";
import { answerForArtifact, type ArtifactFacts } from "./artifact-answer.ts";

const facts = (overrides: Partial<ArtifactFacts> = {}): ArtifactFacts => ({
  kind: "transcript",
  call: { status: "processing", failedStage: null, errorCode: null, errorMessage: null, durationSeconds: 120 },
  ready: false,
  stages: { transcription: { status: "running", errorCode: null, errorMessage: null } },
  chunks: { expected: 4, received: 4, terminal: 1, pendingSeconds: 90 },
  attempts: { transcription: { current: 1, max: 3 }, merge: { current: 1, max: 3 }, summary: { current: 1, max: 3 } },
  ...overrides,
});

describe("answerForArtifact", () => {
  it("answers ready as soon as the artifact of the current version is stored", () => {
    expect(answerForArtifact(facts({ ready: true, call: { ...facts().call, status: "failed", errorCode: "merge_duration_mismatch" } }))).toEqual({ kind: "ready" });
  });

  it("estimates Retry-After from the audio still waiting for transcription, within bounds", () => {
    const running = answerForArtifact(facts(), { transcriptionRealtimeFactor: 0.25, mergeRealtimeFactor: 0, summarySeconds: 5, minRetryAfterSeconds: 1, maxRetryAfterSeconds: 60 });
    expect(running).toMatchObject({ kind: "pending", stage: "transcription", stageStatus: "running", retryAfterSeconds: 23, progress: { chunksDone: 1, chunksTotal: 4 } });
    const long = answerForArtifact(facts({ chunks: { expected: 4, received: 4, terminal: 0, pendingSeconds: 3600 } }));
    expect(long).toMatchObject({ kind: "pending", retryAfterSeconds: 60 });
    const almost = answerForArtifact(facts({ chunks: { expected: 4, received: 4, terminal: 4, pendingSeconds: 0 } }));
    expect(almost).toMatchObject({ kind: "pending", retryAfterSeconds: 1 });
  });

  it("says which attempt of the reaper's budget the work is on", () => {
    const attempts = { transcription: { current: 2, max: 3 }, merge: { current: 1, max: 3 }, summary: { current: 3, max: 3 } };
    expect(answerForArtifact(facts({ attempts }))).toMatchObject({ kind: "pending", attempt: { current: 2, max: 3 }, message: "the transcript is being prepared (attempt 2/3)" });
    // A summary not queued yet waits for the transcription: its attempt is the one that matters.
    expect(answerForArtifact(facts({ kind: "summary", attempts }))).toMatchObject({
      attempt: { current: 2, max: 3 },
      message: "the summary is being prepared (attempt 2/3 of the transcription it waits for)",
    });
    const summaryRunning = { transcription: { status: "succeeded" as const, errorCode: null, errorMessage: null }, summary: { status: "running" as const, errorCode: null, errorMessage: null } };
    expect(answerForArtifact(facts({ kind: "summary", attempts, stages: summaryRunning }))).toMatchObject({ attempt: { current: 3, max: 3 }, message: "the summary is being prepared (attempt 3/3)" });
  });

  it("keeps a summary pending behind transcription, and says the summary stage is not queued yet", () => {
    const answer = answerForArtifact(facts({ kind: "summary" }));
    expect(answer).toMatchObject({ kind: "pending", stage: "summary", stageStatus: "waiting" });
  });

  it("answers the stage's own error code once the stage failed for good", () => {
    const answer = answerForArtifact(
      facts({ stages: { transcription: { status: "failed", errorCode: "provider_timeout", errorMessage: "no answer in 90 s" } } }),
    );
    expect(answer).toEqual({ kind: "failed", statusCode: 500, code: "provider_timeout", message: "no answer in 90 s", stage: "transcription" });
  });

  it("answers the call's error for an artifact that a failed call will never produce", () => {
    const answer = answerForArtifact(
      facts({ kind: "summary", call: { status: "failed", failedStage: "transcription", errorCode: "unsupported_audio", errorMessage: "chunk 2", durationSeconds: 10 } }),
    );
    expect(answer).toMatchObject({ kind: "failed", statusCode: 422, code: "unsupported_audio", stage: "transcription" });
  });

  it("answers 404-absent for a completed call without the artifact", () => {
    const answer = answerForArtifact(facts({ kind: "recording", call: { ...facts().call, status: "completed" }, stages: {} }));
    expect(answer).toMatchObject({ kind: "absent", code: "recording_not_available" });
  });
});
