/**
 * What GET /v1/calls/{id}/transcript|summary|recording answers (invariant 10): 200 when ready, 202 with
 * Retry-After while someone is working towards it, a terminal error with the error code once the work
 * failed for good, 404 when it does not and will not exist. Pure: the route loads the facts.
 */

export type ArtifactKind = "transcript" | "summary" | "recording";
export type StageName = "transcription" | "merge" | "summary" | "completion";
type StageStatus = "queued" | "running" | "succeeded" | "failed";

export const stageProducing: Readonly<Record<ArtifactKind, StageName>> = {
  transcript: "transcription",
  summary: "summary",
  recording: "merge",
};

export interface ArtifactFacts {
  kind: ArtifactKind;
  call: {
    status: "uploading" | "processing" | "completed" | "failed";
    failedStage: string | null;
    errorCode: string | null;
    errorMessage: string | null;
    durationSeconds: number | null;
  };
  /** The artifact of the call's current audio version is stored. */
  ready: boolean;
  /** Stage runs of the current audio version. */
  stages: Partial<Record<StageName, { status: StageStatus; errorCode: string | null; errorMessage: string | null }>>;
  chunks: { expected: number | null; received: number; terminal: number; pendingSeconds: number };
  /** Which attempt of the reaper's budget each stage is on (`attemptsOfCall`). */
  attempts: Record<Exclude<StageName, "completion">, Attempt>;
}

export interface Attempt {
  current: number;
  max: number;
}

export type ArtifactAnswer =
  | { kind: "ready" }
  | {
      kind: "pending";
      /** `recording_fetch`: a placed call's recording on its way from the provider (GET /v1/dials/{id}/recording). */
      stage: StageName | "recording_fetch";
      stageStatus: StageStatus | "waiting";
      retryAfterSeconds: number;
      progress: { chunksDone: number; chunksTotal: number | null };
      /** The attempt of the stage being worked on now: the artifact's own, or the transcription it waits for. */
      attempt: Attempt;
      message: string;
    }
  | { kind: "failed"; statusCode: number; code: string; message: string; stage: string | null }
  | { kind: "absent"; code: string; message: string };

export interface EstimateTuning {
  /** Seconds of transcription work per second of pending audio (pocketsphinx on one core ≈ 1). */
  transcriptionRealtimeFactor: number;
  /** Seconds of merge work per second of audio. */
  mergeRealtimeFactor: number;
  summarySeconds: number;
  /** Retry-After is a hint of when to look again, not a promise: it stays within these bounds. */
  minRetryAfterSeconds: number;
  maxRetryAfterSeconds: number;
}

export const DEFAULT_ESTIMATE_TUNING: Readonly<EstimateTuning> = Object.freeze({
  transcriptionRealtimeFactor: 1,
  mergeRealtimeFactor: 0.05,
  summarySeconds: 5,
  minRetryAfterSeconds: 1,
  maxRetryAfterSeconds: 60,
});

/** Failures a client caused (its audio): 422. Ours or a provider's: 500. Both are final until a retry. */
const INPUT_ERRORS = new Set(["unsupported_audio", "unreadable_audio", "provider_rejected", "audio_too_long", "empty_audio"]);

const failed = (code: string | null, message: string | null, stage: string | null): ArtifactAnswer => {
  const errorCode = code ?? `${stage ?? "processing"}_failed`;
  return {
    kind: "failed",
    statusCode: INPUT_ERRORS.has(errorCode) ? 422 : 500,
    code: errorCode,
    message: message ?? `the call failed${stage ? ` at ${stage}` : ""}`,
    stage,
  };
};

/** Seconds until the artifact is likely done, from what is left of the work before it. */
export const estimateSeconds = (facts: ArtifactFacts, tuning: EstimateTuning): number => {
  const { call, chunks, stages } = facts;
  const duration = call.durationSeconds ?? chunks.pendingSeconds;
  const uploading = call.status === "uploading";
  const transcriptionLeft =
    stages.transcription?.status === "succeeded" ? 0 : Math.max(chunks.pendingSeconds * tuning.transcriptionRealtimeFactor, uploading ? 10 : 1);
  const target = stageProducing[facts.kind];
  if (target === "transcription") return transcriptionLeft;
  if (target === "summary") return transcriptionLeft + tuning.summarySeconds;
  return transcriptionLeft + Math.max(duration * tuning.mergeRealtimeFactor, 1);
};

export const answerForArtifact = (facts: ArtifactFacts, tuning: EstimateTuning = DEFAULT_ESTIMATE_TUNING): ArtifactAnswer => {
  if (facts.ready) return { kind: "ready" };
  const stageName = stageProducing[facts.kind];
  const stage = facts.stages[stageName];
  if (stage?.status === "failed") return failed(stage.errorCode, stage.errorMessage, stageName);
  if (facts.call.status === "failed") return failed(facts.call.errorCode, facts.call.errorMessage, facts.call.failedStage);
  if (facts.call.status === "completed" || stage?.status === "succeeded") {
    return { kind: "absent", code: `${facts.kind}_not_available`, message: `this call has no ${facts.kind} and will not get one` };
  }
  const seconds = estimateSeconds(facts, tuning);
  const working = stageName !== "transcription" && !stage && facts.stages.transcription?.status !== "succeeded" ? "transcription" : stageName;
  const attempt = facts.attempts[working as Exclude<StageName, "completion">];
  return {
    kind: "pending",
    stage: stageName,
    stageStatus: stage?.status ?? "waiting",
    retryAfterSeconds: Math.min(tuning.maxRetryAfterSeconds, Math.max(tuning.minRetryAfterSeconds, Math.ceil(seconds))),
    progress: { chunksDone: facts.chunks.terminal, chunksTotal: facts.chunks.expected },
    attempt,
    message: `the ${facts.kind} is being prepared (attempt ${attempt.current}/${attempt.max}${working === stageName ? "" : ` of the ${working} it waits for`})`,
  };
};
