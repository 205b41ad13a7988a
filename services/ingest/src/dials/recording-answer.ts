import type { DialStatus, StageStatus } from "@callflow/db";
import type { ArtifactAnswer } from "../calls/artifact-answer.ts";

/** What the recording endpoint reads of a dial and of its recording's fetch (null: none queued yet). */
export interface DialRecordingFacts {
  status: DialStatus;
  finishedAt: Date | null;
  fetch: {
    status: StageStatus;
    attempt: number;
    maxAttempts: number;
    callId: string;
    errorCode: string | null;
    errorMessage: string | null;
  } | null;
}

/** Statuses whose call never talked to anyone: there is no recording to wait for. */
const UNANSWERED: ReadonlySet<DialStatus> = new Set(["busy", "no_answer", "failed", "canceled"]);
/** Fetch failures that are the provider's or the audio's, not a worker's: 502 (the upstream failed). */
const WORKER_ERRORS: ReadonlySet<string> = new Set(["worker_not_processing_queue"]);

/** How soon the player asks again: the first attempt is quick; one waiting out a retry's backoff, longer. */
export const FETCH_RETRY_AFTER_SECONDS = 5;
export const REDRIVE_RETRY_AFTER_SECONDS = 30;

/**
 * GET /v1/dials/{id}/recording, before there is a call to answer for: the dial's recording is the
 * call its fetch made (answered as that call's recording), on its way (202 with the attempt), absent
 * for good (404 `no_recording`) or failed for good (the fetch's terminal code, never 202 again until
 * someone asks for a retry).
 */
export const answerForDialRecording = (facts: DialRecordingFacts): ArtifactAnswer | { kind: "call"; callId: string } => {
  const { fetch } = facts;
  if (fetch?.status === "succeeded") return { kind: "call", callId: fetch.callId };
  if (fetch?.status === "failed") {
    if (fetch.errorCode === "no_recording") return { kind: "absent", code: "no_recording", message: fetch.errorMessage ?? "the provider has no recording of this call" };
    const code = fetch.errorCode && WORKER_ERRORS.has(fetch.errorCode) ? fetch.errorCode : "recording_fetch_failed";
    return { kind: "failed", statusCode: code === "worker_not_processing_queue" ? 503 : 502, code, message: fetch.errorMessage ?? "the recording could not be fetched", stage: "recording_fetch" };
  }
  if (!fetch && UNANSWERED.has(facts.status)) {
    return { kind: "absent", code: "no_recording", message: `the call was not answered (${facts.status.replace("_", " ")}): there is no recording` };
  }
  if (!fetch) {
    const message = facts.status === "completed" ? "the call has ended; its recording is on its way from the provider" : "the call is not over yet; its recording follows when it ends";
    return { kind: "pending", stage: "recording_fetch", stageStatus: "waiting", retryAfterSeconds: facts.status === "completed" ? FETCH_RETRY_AFTER_SECONDS : REDRIVE_RETRY_AFTER_SECONDS, progress: { chunksDone: 0, chunksTotal: null }, attempt: { current: 0, max: 0 }, message };
  }
  // Queued after a failed attempt: the worker waits out its backoff before the next one.
  const retrying = fetch.status === "queued" && fetch.attempt > 0;
  const current = retrying ? fetch.attempt + 1 : Math.max(1, fetch.attempt);
  return {
    kind: "pending",
    stage: "recording_fetch",
    stageStatus: fetch.status,
    retryAfterSeconds: retrying ? REDRIVE_RETRY_AFTER_SECONDS : FETCH_RETRY_AFTER_SECONDS,
    progress: { chunksDone: 0, chunksTotal: 1 },
    attempt: { current, max: fetch.maxAttempts },
    message: `the recording is being fetched from the provider (attempt ${current}/${fetch.maxAttempts})`,
  };
};
