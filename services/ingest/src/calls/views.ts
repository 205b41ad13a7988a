import { z } from "zod";
import type { CallPhaseView } from "@callflow/call-lifecycle";

/** The HTTP shapes of calls, declared once: they validate responses and produce the OpenAPI document. */

export const errorView = z.object({ code: z.string(), message: z.string().nullable() }).nullable();

export const stageView = z.object({
  stage: z.enum(["transcription", "merge", "summary", "completion"]),
  audioVersion: z.number().int(),
  status: z.enum(["queued", "running", "succeeded", "failed"]),
  attempt: z.number().int(),
  queuedAt: z.string(),
  startedAt: z.string().nullable(),
  heartbeatAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  error: errorView,
});

export const chunksView = z.object({
  expected: z.number().int().nullable().describe("Known once the upload is finished"),
  received: z.number().int(),
  byStatus: z.record(z.string(), z.number().int()),
  durationSeconds: z.number(),
  failed: z.array(z.object({ index: z.number().int(), error: errorView })),
});

export const phaseView = z
  .enum(["uploading", "uploaded", "transcribing", "summarizing", "merging", "completed", "failed"])
  .describe("Where the call is, derived from its status and stages: uploading → uploaded → transcribing → summarizing → merging → completed | failed");

export const phaseTimeView = z.object({
  phase: phaseView,
  startedAt: z.string(),
  finishedAt: z.string().nullable().describe("Null while the call is in this phase"),
  durationMs: z.number().int().describe("Time spent in the phase, so far while it lasts"),
});

const phaseFields = {
  phase: phaseView,
  phases: z.array(phaseTimeView).describe("The phases of the current audio version, in order, with the time spent in each"),
};

export const callSummaryView = z.object({
  id: z.uuid(),
  status: z.enum(["uploading", "processing", "completed", "failed"]),
  source: z.enum(["upload", "resumable", "recorder", "dial"]),
  audioVersion: z.number().int(),
  durationSeconds: z.number().nullable(),
  sizeBytes: z.number().nullable(),
  contentType: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  uploadFinishedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  failedStage: z.string().nullable(),
  error: errorView,
  ...phaseFields,
});

export const callView = callSummaryView.extend({
  failurePolicy: z.enum(["fail", "partial"]),
  redactPii: z.boolean().describe("Whether the transcript and summary are stored with PII redacted: the upload's override, else the tenant's setting at upload"),
  partial: z.boolean(),
  missingChunkIndexes: z.array(z.number().int()),
  metadata: z.record(z.string(), z.unknown()),
  stages: z.array(stageView).describe("Every stage run of every audio version, oldest first"),
  chunks: chunksView.describe("Chunks of the current audio version"),
});

export const acceptedView = z.object({
  id: z.uuid(),
  status: z.enum(["uploading", "processing", "completed", "failed"]),
  audioVersion: z.number().int(),
});

export type CallSummaryView = z.infer<typeof callSummaryView>;
export type CallView = z.infer<typeof callView>;
export type StageView = z.infer<typeof stageView>;

export type PhaseView = Pick<CallSummaryView, "phase" | "phases">;

/** The wire form of `callPhase`: ISO times. */
export const phaseViewOf = (view: CallPhaseView): PhaseView => ({
  phase: view.phase,
  phases: view.phases.map((time) => ({ phase: time.phase, startedAt: time.startedAt.toISOString(), finishedAt: iso(time.finishedAt), durationMs: time.durationMs })),
});

export const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

export const errorOf = (code: string | null, message: string | null) => (code ? { code, message } : null);
