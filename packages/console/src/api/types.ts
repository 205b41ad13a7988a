/**
 * The API's answers as the console reads them: the subset of the OpenAPI document (/docs/json) that
 * it shows. Names follow the document's schemas; the API validates every answer against them.
 */

export interface ApiErrorBody {
  error: { code: string; message: string; stage?: string };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type CallStatus = "uploading" | "processing" | "completed" | "failed";
export type CallPhase = "uploading" | "uploaded" | "transcribing" | "summarizing" | "merging" | "completed" | "failed";
export type CallSource = "upload" | "resumable" | "recorder" | "dial";
export type ErrorView = { code: string; message: string | null } | null;

export interface PhaseTime {
  phase: CallPhase;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number;
}

export interface CallSummary {
  id: string;
  status: CallStatus;
  source: CallSource;
  audioVersion: number;
  durationSeconds: number | null;
  sizeBytes: number | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  failedStage: string | null;
  error: ErrorView;
  phase: CallPhase;
  phases: PhaseTime[];
}

export interface StageRun {
  stage: "transcription" | "merge" | "summary" | "completion";
  audioVersion: number;
  status: "queued" | "running" | "succeeded" | "failed";
  attempt: number;
  queuedAt: string;
  startedAt: string | null;
  heartbeatAt: string | null;
  finishedAt: string | null;
  error: ErrorView;
}

export interface CallDetail extends CallSummary {
  failurePolicy: "fail" | "partial";
  partial: boolean;
  missingChunkIndexes: number[];
  metadata: Record<string, unknown>;
  stages: StageRun[];
  chunks: { expected: number | null; received: number; byStatus: Record<string, number>; durationSeconds: number; failed: { index: number; error: ErrorView }[] };
  /** Not in the API yet: shown when an answer carries one. */
  lead?: Record<string, unknown> | null;
}

/** A 202 from an artifact: the work is under way. */
export interface PendingArtifact {
  status: "pending";
  stage: string;
  stageStatus: string;
  retryAfterSeconds: number;
  progress: { chunksDone: number; chunksTotal: number | null };
  attempt: { current: number; max: number };
  message: string;
}

export interface TranscriptSegment {
  start: number;
  end: number;
  text: string;
  speaker?: string | number;
  chunkIndex?: number;
}

export interface Transcript {
  callId: string;
  audioVersion: number;
  text: string;
  segments: unknown;
  partial: boolean;
  missingChunkIndexes: number[];
  createdAt: string;
}

export interface Summary {
  callId: string;
  revision: number;
  model: string;
  content: unknown;
  createdAt: string;
}

export interface Accepted {
  id: string;
  status: string;
}

export type DialStatus = "queued" | "scheduled" | "placing" | "placed" | "ringing" | "in_progress" | "completed" | "no_answer" | "busy" | "failed" | "canceled";
export type DialPriority = "high" | "normal" | "low";

export interface DialSummary {
  id: string;
  status: DialStatus;
  to: string;
  from: string | null;
  campaign: string | null;
  priority: DialPriority;
  leadId: string | null;
  attempt: number;
  maxAttempts: number;
  notBefore: string | null;
  calleeTimezone: string | null;
  nextAttemptAt: string;
  providerCallId: string | null;
  callId: string | null;
  error: ErrorView;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface DialEvent {
  status: DialStatus;
  attempt: number;
  at: string;
  errorCode: string | null;
  detail: string | null;
}

export interface DialDetail extends DialSummary {
  metadata: Record<string, unknown>;
  timeline: DialEvent[];
}

export interface Me {
  tenant: { id: string; name: string };
  key: { id: string; name: string; prefix: string; scopes: string[] };
  admin: boolean;
}

export interface StuckItem {
  stage: string;
  entityType: string;
  entityId: string;
  tenantId: string | null;
  callId: string | null;
  status: string;
  attempt: number | null;
  since: string;
  reason: string;
}

export interface ReaperAction {
  kind: string;
  entityType: string;
  entityId: string;
  tenantId: string | null;
  reason: string;
  before: unknown;
  after: unknown;
  outcome: "applied" | "dry_run" | "stale" | "failed";
}

export interface SweepResult {
  sweepId: string;
  dryRun: boolean;
  durationMs: number;
  actions: ReaperAction[];
  errors: { sweep: string; error: string }[];
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  tenantId: string | null;
  reason: string;
  before: unknown;
  after: unknown;
  dryRun: boolean;
  sweepId: string | null;
}

export interface DeadLetter {
  id: string;
  stream: string;
  consumer: string;
  subject: string;
  streamSequence: number;
  deliveryCount: number;
  reason: string;
  error: ErrorView;
  entityType: string | null;
  entityId: string | null;
  tenantId: string | null;
  createdAt: string;
  replayCount: number;
  replayedAt: string | null;
  event: string | null;
  payload: unknown;
  payloadBase64: string;
  headers: Record<string, unknown>;
}

export type MetricStage = "transcription" | "merge" | "summary";

export interface MetricsPoint {
  at: string;
  calls: { created: number; completed: number; failed: number };
  latencyP99Seconds: Record<MetricStage, number | null>;
  waiting: Record<MetricStage, number>;
}

export interface Metrics {
  from: string;
  to: string;
  stepSeconds: number;
  points: MetricsPoint[];
}
