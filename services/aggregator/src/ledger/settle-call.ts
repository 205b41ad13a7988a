import { failCallAtStage } from "@callflow/call-lifecycle";
import type { Emit, TransactionClient } from "@callflow/messaging";
import { assembleTranscript } from "./assemble-transcript.ts";
import { evaluateCompleteness, type FailedChunk } from "./completeness.ts";
import { isSettled, readLedgerIn } from "./read-ledger.ts";

/** What one look at a call's ledger concluded. Only `transcribed` and `failed` changed anything. */
export type Settlement =
  | { outcome: "unknown_call" }
  /** The call (this audio version) was settled before: a duplicate or late event. */
  | { outcome: "already_settled"; status: string }
  | { outcome: "pending"; reason: string }
  | { outcome: "transcribed"; transcriptId: string; partial: boolean; missingChunkIndexes: number[]; lastChunkAt?: Date | undefined }
  | { outcome: "failed"; errorCode: string; errorMessage: string };

export const CHUNK_FAILED = "chunk_failed";
export const ALL_CHUNKS_FAILED = "all_chunks_failed";

const describeFailure = (failed: FailedChunk): string => `chunk ${failed.index} failed (${failed.errorCode}): ${failed.errorMessage}`.slice(0, 2_000);

/**
 * Settles a call if its chunks are all in. Runs inside the caller's transaction, which must be the
 * one the events commit with. The call row is locked first (`FOR UPDATE`), so concurrent deliveries
 * for one call queue here and each sees the previous one's verdict: exactly one emits.
 */
export async function settleCall(tx: TransactionClient, emit: Emit, callId: string, now: Date): Promise<Settlement> {
  // The lock first, on its own: in READ COMMITTED a row lock re-reads only the locked row once the
  // holder commits, so anything read in the same statement (a joined stage row) could be stale.
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id::text AS id FROM calls WHERE id = ${callId}::uuid FOR UPDATE`;
  if (locked.length === 0) return { outcome: "unknown_call" };
  const ledger = await readLedgerIn(tx)(callId);
  if (!ledger) return { outcome: "unknown_call" };
  const { call, chunks } = ledger;
  const settled = isSettled(call);
  if (settled) return { outcome: "already_settled", status: settled };
  const { tenantId, audioVersion } = call;
  const verdict = evaluateCompleteness({
    uploadFinished: call.uploadFinished,
    expectedChunkCount: call.expectedChunkCount,
    policy: call.failurePolicy,
    chunks,
  });
  if (verdict.state === "pending") return { outcome: "pending", reason: verdict.reason };

  if (verdict.state === "failed" || verdict.transcribed.length === 0) {
    const errorCode = verdict.state === "failed" ? CHUNK_FAILED : ALL_CHUNKS_FAILED;
    const errorMessage =
      verdict.state === "failed"
        ? describeFailure(verdict.failed)
        : `every chunk failed; the first: ${describeFailure(verdict.missing[0]!)}`.slice(0, 2_000);
    // Fails the stage and the call, emits callFailed and queues the customer's webhook.
    await failCallAtStage(tx, emit, { callId, audioVersion, stage: "transcription", errorCode, errorMessage, now });
    return { outcome: "failed", errorCode, errorMessage };
  }

  const ids = verdict.transcribed.map(({ chunk }) => chunk.id);
  const bodies = await tx.$queryRaw<{ id: string; text: string | null; segments: unknown; startOffsetSeconds: number }[]>`
    SELECT id::text AS id, text, segments, start_offset_seconds AS "startOffsetSeconds" FROM chunks WHERE id = ANY(${ids}::uuid[])`;
  const bodyOf = new Map(bodies.map((body) => [body.id, body]));
  const assembled = assembleTranscript(
    verdict.transcribed.map(({ chunk, index }) => ({ ...bodyOf.get(chunk.id)!, index: chunk.index, reportIndex: index })),
  );
  const missingChunkIndexes = verdict.missing.map((failed) => failed.index);
  const partial = missingChunkIndexes.length > 0;

  // One statement for the transcript, the call's partial flag and the stage runs (transcription
  // succeeded; merge and summary queued unless they exist): this path runs once per call, but the
  // fan-in latency budget is tens of milliseconds.
  const [transcript] = await tx.$queryRaw<{ id: string }[]>`
    WITH transcript AS (
      INSERT INTO transcripts (id, tenant_id, call_id, audio_version, text, segments, partial, missing_chunk_indexes)
      VALUES (gen_random_uuid(), ${tenantId}::uuid, ${callId}::uuid, ${audioVersion}, ${assembled.text}, ${JSON.stringify(assembled.segments)}::jsonb, ${partial}, ${missingChunkIndexes}::int[])
      ON CONFLICT (call_id, audio_version) DO UPDATE
        SET text = EXCLUDED.text, segments = EXCLUDED.segments, partial = EXCLUDED.partial, missing_chunk_indexes = EXCLUDED.missing_chunk_indexes
      RETURNING id
    ), call AS (
      UPDATE calls SET partial = ${partial}, missing_chunk_indexes = ${missingChunkIndexes}::int[], updated_at = ${now}
      WHERE id = ${callId}::uuid
    ), stages AS (
      INSERT INTO stage_runs (id, tenant_id, call_id, stage, audio_version, status, attempt, started_at, finished_at, updated_at)
      VALUES
        (gen_random_uuid(), ${tenantId}::uuid, ${callId}::uuid, 'transcription', ${audioVersion}, 'succeeded',
         (SELECT COALESCE(max(attempt), 0) FROM chunks WHERE call_id = ${callId}::uuid AND audio_version = ${audioVersion}),
         (SELECT min(started_at) FROM chunks WHERE call_id = ${callId}::uuid AND audio_version = ${audioVersion}), ${now}, ${now}),
        (gen_random_uuid(), ${tenantId}::uuid, ${callId}::uuid, 'merge', ${audioVersion}, 'queued', 0, NULL, NULL, ${now}),
        (gen_random_uuid(), ${tenantId}::uuid, ${callId}::uuid, 'summary', ${audioVersion}, 'queued', 0, NULL, NULL, ${now})
      ON CONFLICT (call_id, stage, audio_version) DO UPDATE
        SET status = CASE WHEN EXCLUDED.stage = 'transcription' THEN 'succeeded'::stage_status ELSE stage_runs.status END,
            -- The transcription stage's timeline is its chunks': first claim to last result, the most tries any chunk took.
            attempt = CASE WHEN EXCLUDED.stage = 'transcription' THEN GREATEST(stage_runs.attempt, EXCLUDED.attempt) ELSE stage_runs.attempt END,
            started_at = CASE WHEN EXCLUDED.stage = 'transcription' THEN COALESCE(stage_runs.started_at, EXCLUDED.started_at) ELSE stage_runs.started_at END,
            finished_at = CASE WHEN EXCLUDED.stage = 'transcription' THEN EXCLUDED.finished_at ELSE stage_runs.finished_at END,
            error_code = CASE WHEN EXCLUDED.stage = 'transcription' THEN NULL ELSE stage_runs.error_code END,
            error_message = CASE WHEN EXCLUDED.stage = 'transcription' THEN NULL ELSE stage_runs.error_message END,
            updated_at = EXCLUDED.updated_at
    )
    SELECT id::text AS id FROM transcript`;
  await emit("callTranscribed", { tenantId, callId, transcriptId: transcript!.id, partial, audioVersion });
  const finished = chunks.map((chunk) => chunk.finishedAt?.getTime() ?? 0);
  const lastChunkAt = finished.length > 0 && Math.max(...finished) > 0 ? new Date(Math.max(...finished)) : undefined;
  return { outcome: "transcribed", transcriptId: transcript!.id, partial, missingChunkIndexes, lastChunkAt };
}
