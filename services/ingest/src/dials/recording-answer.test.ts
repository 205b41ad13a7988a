import { describe, expect, it } from "vitest";
import { answerForDialRecording, FETCH_RETRY_AFTER_SECONDS, REDRIVE_RETRY_AFTER_SECONDS, type DialRecordingFacts } from "./recording-answer.ts";

const fetch = (overrides: Partial<NonNullable<DialRecordingFacts["fetch"]>>): DialRecordingFacts["fetch"] => ({
  status: "queued",
  attempt: 0,
  maxAttempts: 3,
  callId: "c1",
  errorCode: null,
  errorMessage: null,
  ...overrides,
});
const facts = (status: DialRecordingFacts["status"], fetchFacts: DialRecordingFacts["fetch"] = null): DialRecordingFacts => ({ status, finishedAt: null, fetch: fetchFacts });

describe("what GET /v1/dials/{id}/recording answers", () => {
  it("the call's recording once the fetch stored it", () => {
    expect(answerForDialRecording(facts("completed", fetch({ status: "succeeded", attempt: 1 })))).toEqual({ kind: "call", callId: "c1" });
  });

  it("404 no_recording for a call nobody answered, or one the provider has no recording of", () => {
    for (const status of ["busy", "no_answer", "failed", "canceled"] as const) expect(answerForDialRecording(facts(status))).toMatchObject({ kind: "absent", code: "no_recording" });
    expect(answerForDialRecording(facts("completed", fetch({ status: "failed", errorCode: "no_recording" })))).toMatchObject({ kind: "absent", code: "no_recording" });
  });

  it("202 with the attempt while fetching, a longer Retry-After while a retry waits out its backoff", () => {
    expect(answerForDialRecording(facts("completed", fetch({ status: "running", attempt: 1 })))).toMatchObject({ kind: "pending", retryAfterSeconds: FETCH_RETRY_AFTER_SECONDS, attempt: { current: 1, max: 3 }, message: expect.stringContaining("attempt 1/3") });
    expect(answerForDialRecording(facts("completed", fetch({ status: "queued", attempt: 1 })))).toMatchObject({ kind: "pending", retryAfterSeconds: REDRIVE_RETRY_AFTER_SECONDS, attempt: { current: 2, max: 3 } });
    expect(answerForDialRecording(facts("in_progress"))).toMatchObject({ kind: "pending", stageStatus: "waiting" });
  });

  it("the terminal code, never 202, once the fetch failed for good: 502 after the attempts, 503 with no worker", () => {
    expect(answerForDialRecording(facts("completed", fetch({ status: "failed", attempt: 3, errorCode: "recording_fetch_failed", errorMessage: "500" })))).toMatchObject({ kind: "failed", statusCode: 502, code: "recording_fetch_failed" });
    expect(answerForDialRecording(facts("completed", fetch({ status: "failed", errorCode: "worker_not_processing_queue" })))).toMatchObject({ kind: "failed", statusCode: 503, code: "worker_not_processing_queue" });
    expect(answerForDialRecording(facts("completed", fetch({ status: "failed", errorCode: "recording_unreadable" })))).toMatchObject({ kind: "failed", statusCode: 502, code: "recording_fetch_failed" });
  });
});
