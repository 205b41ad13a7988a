import { callPhase, type PhaseStageFacts } from "@callflow/call-lifecycle";
import type { CallSource, CallStatus, Db, Prisma } from "@callflow/db";
import { notFound } from "../http/api-error.ts";
import { encodeCursor, pageOf, pageWindow, type PageRequest } from "../http/pages.ts";
import { errorOf, iso, phaseViewOf, type CallSummaryView, type CallView, type PhaseView, type StageView } from "./views.ts";

/** Reads of calls, always through the tenant: another tenant's call does not exist (404, never 403). */

type CallRow = Prisma.CallGetPayload<object>;

/** The call's phase from its row and its stage rows (any audio version: callPhase picks the current one). */
export const phaseOfCall = (
  call: Pick<CallRow, "status" | "audioVersion" | "createdAt" | "updatedAt" | "completedAt">,
  stages: readonly PhaseStageFacts[],
  now: Date = new Date(),
): PhaseView =>
  phaseViewOf(
    callPhase(
      // A failed call's row was last written when it failed; a completed one says when.
      { status: call.status, audioVersion: call.audioVersion, createdAt: call.createdAt, settledAt: call.completedAt ?? (call.status === "failed" ? call.updatedAt : null) },
      stages,
      now,
    ),
  );

const PHASE_STAGE_FIELDS = { stage: true, audioVersion: true, status: true, createdAt: true, startedAt: true, finishedAt: true } as const;

export const summarize = (call: CallRow & { stages: PhaseStageFacts[] }): CallSummaryView => ({
  id: call.id,
  status: call.status,
  source: call.source,
  audioVersion: call.audioVersion,
  durationSeconds: call.durationSeconds,
  sizeBytes: call.sizeBytes === null ? null : Number(call.sizeBytes),
  contentType: call.contentType,
  createdAt: call.createdAt.toISOString(),
  updatedAt: call.updatedAt.toISOString(),
  uploadFinishedAt: iso(call.uploadFinishedAt),
  completedAt: iso(call.completedAt),
  failedStage: call.failedStage,
  error: errorOf(call.errorCode, call.errorMessage),
  ...phaseOfCall(call, call.stages),
});

export const findCall = async (db: Db, tenantId: string, callId: string): Promise<CallRow> => {
  const call = await db.call.findFirst({ where: { id: callId, tenantId } });
  if (!call) throw notFound("call", callId);
  return call;
};

export interface ChunkProgress {
  expected: number | null;
  received: number;
  byStatus: Record<string, number>;
  durationSeconds: number;
  /** Audio seconds in chunks that are not terminal yet. */
  pendingSeconds: number;
  failed: { index: number; error: { code: string; message: string | null } | null }[];
}

const TERMINAL_CHUNK = new Set(["transcribed", "failed", "superseded"]);

export const chunkProgress = async (db: Db, tenantId: string, call: Pick<CallRow, "id" | "audioVersion" | "expectedChunkCount">): Promise<ChunkProgress> => {
  const chunks = await db.chunk.findMany({
    where: { callId: call.id, tenantId, audioVersion: call.audioVersion },
    select: { index: true, status: true, durationSeconds: true, parentChunkId: true, errorCode: true, errorMessage: true },
    orderBy: { index: "asc" },
  });
  const byStatus: Record<string, number> = {};
  let durationSeconds = 0;
  let pendingSeconds = 0;
  for (const chunk of chunks) {
    byStatus[chunk.status] = (byStatus[chunk.status] ?? 0) + 1;
    if (chunk.parentChunkId === null) durationSeconds += chunk.durationSeconds ?? 0;
    if (!TERMINAL_CHUNK.has(chunk.status)) pendingSeconds += chunk.durationSeconds ?? 0;
  }
  return {
    expected: call.expectedChunkCount,
    received: chunks.filter((chunk) => chunk.parentChunkId === null).length,
    byStatus,
    durationSeconds,
    pendingSeconds,
    failed: chunks.filter((chunk) => chunk.status === "failed").map((chunk) => ({ index: chunk.index, error: errorOf(chunk.errorCode, chunk.errorMessage) })),
  };
};

interface CallDetailRow {
  id: string;
  tenant_id: string;
  status: CallRow["status"];
  source: CallRow["source"];
  audio_version: number;
  duration_seconds: number | null;
  size_bytes: bigint | null;
  content_type: string | null;
  created_at: Date;
  updated_at: Date;
  upload_finished_at: Date | null;
  completed_at: Date | null;
  failed_stage: string | null;
  error_code: string | null;
  error_message: string | null;
  failure_policy: CallRow["failurePolicy"];
  redact_pii: boolean;
  partial: boolean;
  missing_chunk_indexes: number[];
  metadata: Record<string, unknown> | null;
  expected_chunk_count: number | null;
  stages: {
    stage: StageView["stage"];
    audio_version: number;
    status: StageView["status"];
    attempt: number;
    created_at: string;
    started_at: string | null;
    heartbeat_at: string | null;
    finished_at: string | null;
    error_code: string | null;
    error_message: string | null;
  }[];
  chunk_counts: Record<string, number>;
  chunks_received: number;
  chunks_seconds: number;
  failed_chunks: { index: number; error_code: string | null; error_message: string | null }[];
}

const isoOf = (text: string | null): string | null => (text === null ? null : new Date(text).toISOString());

/**
 * The status endpoint is what clients poll, so it is one SQL statement (the ORM would take three
 * queries, each through Prisma's query compiler, at several times the CPU).
 */
export const callDetail = async (db: Db, tenantId: string, callId: string): Promise<CallView> => {
  const rows = await db.$queryRaw<CallDetailRow[]>`
    SELECT c.id::text, c.tenant_id::text, c.status::text, c.source::text, c.audio_version, c.duration_seconds, c.size_bytes,
           c.content_type, c.created_at, c.updated_at, c.upload_finished_at, c.completed_at, c.failed_stage, c.error_code,
           c.error_message, c.failure_policy::text, c.redact_pii, c.partial, COALESCE(c.missing_chunk_indexes, ARRAY[]::int[]) AS missing_chunk_indexes, c.metadata, c.expected_chunk_count,
           COALESCE((SELECT json_agg(json_build_object(
                       'stage', s.stage, 'audio_version', s.audio_version, 'status', s.status, 'attempt', s.attempt,
                       'created_at', s.created_at, 'started_at', s.started_at, 'heartbeat_at', s.heartbeat_at,
                       'finished_at', s.finished_at, 'error_code', s.error_code, 'error_message', s.error_message)
                     ORDER BY s.audio_version, s.created_at)
                     FROM stage_runs s WHERE s.call_id = c.id AND s.tenant_id = c.tenant_id), '[]') AS stages,
           COALESCE((SELECT json_object_agg(g.status, g.n)
                     FROM (SELECT k.status, count(*) AS n FROM chunks k
                           WHERE k.call_id = c.id AND k.tenant_id = c.tenant_id AND k.audio_version = c.audio_version
                           GROUP BY k.status) g), '{}') AS chunk_counts,
           (SELECT count(*)::int FROM chunks k
             WHERE k.call_id = c.id AND k.tenant_id = c.tenant_id AND k.audio_version = c.audio_version AND k.parent_chunk_id IS NULL) AS chunks_received,
           (SELECT COALESCE(sum(k.duration_seconds), 0)::float8 FROM chunks k
             WHERE k.call_id = c.id AND k.tenant_id = c.tenant_id AND k.audio_version = c.audio_version AND k.parent_chunk_id IS NULL) AS chunks_seconds,
           COALESCE((SELECT json_agg(json_build_object('index', f.index, 'error_code', f.error_code, 'error_message', f.error_message) ORDER BY f.index)
                     FROM (SELECT k.index, k.error_code, k.error_message FROM chunks k
                           WHERE k.call_id = c.id AND k.tenant_id = c.tenant_id AND k.audio_version = c.audio_version AND k.status = 'failed'
                           ORDER BY k.index LIMIT 100) f), '[]') AS failed_chunks
    FROM calls c
    WHERE c.id = ${callId}::uuid AND c.tenant_id = ${tenantId}::uuid`;
  const row = rows[0];
  if (!row) throw notFound("call", callId);
  return {
    id: row.id,
    status: row.status,
    source: row.source,
    audioVersion: row.audio_version,
    durationSeconds: row.duration_seconds,
    sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
    contentType: row.content_type,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    uploadFinishedAt: iso(row.upload_finished_at),
    completedAt: iso(row.completed_at),
    failedStage: row.failed_stage,
    error: errorOf(row.error_code, row.error_message),
    ...phaseOfCall(
      { status: row.status, audioVersion: row.audio_version, createdAt: row.created_at, updatedAt: row.updated_at, completedAt: row.completed_at },
      row.stages.map((stage) => ({
        stage: stage.stage,
        audioVersion: stage.audio_version,
        status: stage.status,
        createdAt: new Date(stage.created_at),
        startedAt: stage.started_at === null ? null : new Date(stage.started_at),
        finishedAt: stage.finished_at === null ? null : new Date(stage.finished_at),
      })),
    ),
    failurePolicy: row.failure_policy,
    redactPii: row.redact_pii,
    partial: row.partial,
    missingChunkIndexes: row.missing_chunk_indexes,
    metadata: row.metadata ?? {},
    stages: row.stages.map((stage) => ({
      stage: stage.stage,
      audioVersion: stage.audio_version,
      status: stage.status,
      attempt: stage.attempt,
      queuedAt: isoOf(stage.created_at)!,
      startedAt: isoOf(stage.started_at),
      heartbeatAt: isoOf(stage.heartbeat_at),
      finishedAt: isoOf(stage.finished_at),
      error: errorOf(stage.error_code, stage.error_message),
    })),
    chunks: {
      expected: row.expected_chunk_count,
      received: row.chunks_received,
      byStatus: row.chunk_counts,
      durationSeconds: row.chunks_seconds,
      failed: row.failed_chunks.map((chunk) => ({ index: chunk.index, error: errorOf(chunk.error_code, chunk.error_message) })),
    },
  };
};

export type CallPhase = CallSummaryView["phase"];

export interface CallFilters extends PageRequest {
  status?: CallStatus | undefined;
  phase?: CallPhase | undefined;
  source?: CallSource | undefined;
  errorCode?: string | undefined;
}

/** The phases that are a status of their own; the others are stages of a processing call. */
const STATUS_PHASES: ReadonlySet<string> = new Set<CallStatus>(["uploading", "completed", "failed"]);
const SCAN_BATCH = 200;

/** Newest first, in cursor pages. */
export const listCalls = async (db: Db, tenantId: string, filters: CallFilters): Promise<{ items: CallSummaryView[]; nextCursor: string | null }> => {
  const statuses = [filters.status, filters.phase === undefined ? undefined : STATUS_PHASES.has(filters.phase) ? (filters.phase as CallStatus) : "processing"];
  const base: Prisma.CallWhereInput = {
    tenantId,
    AND: statuses.flatMap((status) => (status ? [{ status }] : [])),
    ...(filters.source ? { source: filters.source } : {}),
    ...(filters.errorCode ? { errorCode: filters.errorCode } : {}),
  };
  const include = { stages: { select: PHASE_STAGE_FIELDS } };
  const window = pageWindow(filters);
  if (filters.phase === undefined || STATUS_PHASES.has(filters.phase)) {
    return pageOf(await db.call.findMany({ ...window, where: { ...base, ...window.where }, include }), filters.limit, summarize);
  }
  // A processing call's phase is derived from its stage rows (callPhase), not stored: the processing
  // calls are read in batches and kept when their phase is the one asked for. They are the calls in
  // flight, a small set next to the settled ones.
  const matched: (CallRow & { stages: PhaseStageFacts[] })[] = [];
  let batchWindow = window;
  for (;;) {
    const batch = await db.call.findMany({ ...batchWindow, take: SCAN_BATCH, where: { ...base, ...batchWindow.where }, include });
    matched.push(...batch.filter((row) => summarize(row).phase === filters.phase));
    const last = batch.at(-1);
    if (matched.length > filters.limit || batch.length < SCAN_BATCH || !last) break;
    batchWindow = pageWindow({ ...filters, cursor: encodeCursor(last) });
  }
  return pageOf(matched, filters.limit, summarize);
};
