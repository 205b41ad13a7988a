import { z } from "zod";

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
});

export const callView = callSummaryView.extend({
  failurePolicy: z.enum(["fail", "partial"]),
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

export const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

export const errorOf = (code: string | null, message: string | null) => (code ? { code, message } : null);
