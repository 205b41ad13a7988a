import type pg from "pg";
import type { Db } from "@callflow/db";
import type { TransactionClient } from "@callflow/messaging";
import type { LedgerChunk } from "./completeness.ts";

export interface LedgerCall {
  tenantId: string;
  status: "uploading" | "processing" | "completed" | "failed";
  audioVersion: number;
  uploadFinished: boolean;
  expectedChunkCount: number | null;
  failurePolicy: "fail" | "partial";
  /** The transcription stage of the current audio version; null before ingest created it. */
  stageStatus: "queued" | "running" | "succeeded" | "failed" | null;
}

type Row = LedgerCall & { [K in keyof LedgerChunk as `chunk_${K}`]: LedgerChunk[K] | null };

/**
 * The call, its transcription stage and its chunk rows (current audio version) in one statement.
 * It runs for every chunk event, so the hot path sends it through a plain `pg` pool: through the ORM
 * each query costs about a millisecond of CPU, which at hundreds of events a second is the bottleneck.
 */
export const LEDGER_SQL = `
  SELECT c.tenant_id::text AS "tenantId", c.status::text AS status, c.audio_version AS "audioVersion",
         c.upload_finished_at IS NOT NULL AS "uploadFinished", c.expected_chunk_count AS "expectedChunkCount",
         c.failure_policy::text AS "failurePolicy", s.status::text AS "stageStatus",
         ch.id::text AS "chunk_id", ch.index AS "chunk_index", ch.parent_chunk_id::text AS "chunk_parentChunkId",
         ch.status::text AS "chunk_status", ch.start_offset_seconds AS "chunk_startOffsetSeconds",
         ch.error_code AS "chunk_errorCode", ch.error_message AS "chunk_errorMessage", ch.finished_at AS "chunk_finishedAt"
  FROM calls c
  LEFT JOIN stage_runs s ON s.call_id = c.id AND s.stage = 'transcription' AND s.audio_version = c.audio_version
  LEFT JOIN chunks ch ON ch.call_id = c.id AND ch.audio_version = c.audio_version
  WHERE c.id = $1::uuid`;

export type LedgerView = { call: LedgerCall; chunks: LedgerChunk[] };

/** Reads one call's ledger; null for an unknown call. */
export type LedgerReader = (callId: string) => Promise<LedgerView | null>;

export function toLedgerView(rows: readonly Row[]): LedgerView | null {
  const first = rows[0];
  if (!first) return null;
  const call: LedgerCall = {
    tenantId: first.tenantId,
    status: first.status,
    audioVersion: first.audioVersion,
    uploadFinished: first.uploadFinished,
    expectedChunkCount: first.expectedChunkCount,
    failurePolicy: first.failurePolicy,
    stageStatus: first.stageStatus,
  };
  const chunks = rows
    .filter((row) => row.chunk_id !== null)
    .map((row) => ({
      id: row.chunk_id!,
      index: row.chunk_index!,
      parentChunkId: row.chunk_parentChunkId,
      status: row.chunk_status!,
      startOffsetSeconds: row.chunk_startOffsetSeconds!,
      errorCode: row.chunk_errorCode,
      errorMessage: row.chunk_errorMessage,
      finishedAt: row.chunk_finishedAt,
    }));
  return { call, chunks };
}

/** Inside a Prisma transaction (the locked settle path). */
export const readLedgerIn =
  (client: Db | TransactionClient): LedgerReader =>
  async (callId) =>
    toLedgerView(await client.$queryRawUnsafe<Row[]>(LEDGER_SQL, callId));

/** Through a `pg` pool (the unlocked look every event takes). */
export const pgLedgerReader =
  (pool: Pick<pg.Pool, "query">): LedgerReader =>
  async (callId) =>
    toLedgerView((await pool.query<Row>(LEDGER_SQL, [callId])).rows);

export const isSettled = (call: LedgerCall): string | undefined => {
  if (call.status === "completed" || call.status === "failed") return call.status;
  if (call.stageStatus === "succeeded" || call.stageStatus === "failed") return call.stageStatus;
  return undefined;
};
