import type { FailurePolicy, Prisma } from "@callflow/db";
import { ApiError, conflict, notFound } from "../http/api-error.ts";
import type { ReceivedAudio } from "../uploads/receive-audio.ts";
import type { Commit, Emit, TransactionClient } from "./commit.ts";

/**
 * The durable hand-off (pipeline.md): every write that starts work commits the rows and the outbox
 * events announcing them in one transaction, before the client hears 2xx. Every query names the tenant.
 */

import { resolveRedactPii, type CallAccepted } from "@callflow/call-lifecycle";

export { queueSingleChunkVersion, recordWholeUpload, type CallAccepted, type WholeUpload } from "@callflow/call-lifecycle";

/** Locks the tenant's call row for the rest of the transaction; null when it does not exist. */
export const lockCall = async (tx: TransactionClient, tenantId: string, callId: string) => {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM calls WHERE id = ${callId}::uuid AND tenant_id = ${tenantId}::uuid FOR UPDATE`;
  if (rows.length === 0) return null;
  return tx.call.findUniqueOrThrow({ where: { id: callId } });
};

/** A recorder opens a call and then sends its chunks one by one. */
export const openRecorderCall = (
  commit: Commit,
  input: { tenantId: string; failurePolicy?: FailurePolicy; metadata?: Prisma.InputJsonObject; redactPii?: boolean | undefined },
): Promise<CallAccepted> =>
  commit(async (tx) => {
    const call = await tx.call.create({
      data: {
        tenantId: input.tenantId,
        status: "uploading",
        source: "recorder",
        failurePolicy: input.failurePolicy ?? "fail",
        metadata: input.metadata ?? {},
        redactPii: await resolveRedactPii(tx, input.tenantId, input.redactPii),
      },
      select: { id: true, status: true, audioVersion: true },
    });
    return call;
  });

export interface ChunkAccepted {
  callId: string;
  chunkId: string;
  index: number;
  status: string;
  startOffsetSeconds: number;
  /** False when this index was already stored: the request was a retry and changed nothing. */
  created: boolean;
}

const MAX_CHUNK_INDEX = 99_999;

const existingChunk = async (tx: Pick<TransactionClient, "chunk">, callId: string, audioVersion: number, index: number) =>
  tx.chunk.findUnique({
    where: { callId_audioVersion_index: { callId, audioVersion, index } },
    select: { id: true, index: true, status: true, startOffsetSeconds: true },
  });

/** Checks before the body is read: unknown call 404, finished upload 409, a repeated index answers at once. */
export const precheckRecorderChunk = async (
  db: Pick<TransactionClient, "call" | "chunk">,
  input: { tenantId: string; callId: string; index: number },
): Promise<ChunkAccepted | null> => {
  if (!Number.isInteger(input.index) || input.index < 0 || input.index > MAX_CHUNK_INDEX) {
    throw new ApiError(400, "invalid_chunk_index", `index must be an integer from 0 to ${MAX_CHUNK_INDEX}`);
  }
  const call = await db.call.findFirst({ where: { id: input.callId, tenantId: input.tenantId }, select: { status: true, source: true, audioVersion: true } });
  if (!call) throw notFound("call", input.callId);
  if (call.source !== "recorder") throw conflict("not_a_recorder_call", "chunks can only be added to a call opened with POST /v1/calls/recorder");
  const existing = await existingChunk(db, input.callId, call.audioVersion, input.index);
  if (existing) return { callId: input.callId, chunkId: existing.id, index: existing.index, status: existing.status, startOffsetSeconds: existing.startOffsetSeconds, created: false };
  if (call.status !== "uploading") throw conflict("upload_finished", "the call's upload is finished; it takes no more chunks");
  return null;
};

/**
 * Stores chunk `index` (idempotent: a second request for a stored index changes nothing) and
 * announces it. Its offset in the call is the caller's, or the sum of the chunks before it.
 */
export const addRecorderChunk = (
  commit: Commit,
  input: { tenantId: string; callId: string; index: number; offsetSeconds?: number | undefined; audio: ReceivedAudio },
): Promise<ChunkAccepted> =>
  commit(async (tx, emit) => {
    const { tenantId, callId, index, audio } = input;
    const call = await lockCall(tx, tenantId, callId);
    if (!call) throw notFound("call", callId);
    const existing = await existingChunk(tx, callId, call.audioVersion, index);
    if (existing) return { callId, chunkId: existing.id, index, status: existing.status, startOffsetSeconds: existing.startOffsetSeconds, created: false };
    if (call.status !== "uploading") throw conflict("upload_finished", "the call's upload is finished; it takes no more chunks");

    let startOffsetSeconds = input.offsetSeconds;
    if (startOffsetSeconds === undefined) {
      const before = await tx.chunk.findMany({
        where: { callId, audioVersion: call.audioVersion, index: { lt: index } },
        select: { durationSeconds: true },
      });
      if (before.length !== index) {
        throw conflict("chunk_out_of_order", `chunks before ${index} are missing; send them first or pass offsetSeconds`);
      }
      startOffsetSeconds = before.reduce((sum, chunk) => sum + (chunk.durationSeconds ?? 0), 0);
    }
    const chunk = await tx.chunk.create({
      data: {
        tenantId,
        callId,
        audioVersion: call.audioVersion,
        index,
        objectKey: audio.key,
        contentType: audio.contentType,
        sizeBytes: BigInt(audio.sizeBytes),
        durationSeconds: audio.durationSeconds,
        startOffsetSeconds,
        status: "queued",
      },
      select: { id: true, status: true, attempt: true },
    });
    await emit("chunkReady", { tenantId, callId, chunkId: chunk.id, chunkIndex: index, attempt: chunk.attempt });
    return { callId, chunkId: chunk.id, index, status: chunk.status, startOffsetSeconds, created: true };
  });

/**
 * The recorder says no more chunks come: the call moves to processing with its expected chunk count,
 * so the aggregator can tell when every chunk is in. Idempotent: a repeated finish answers the same.
 */
export const finishRecorderUpload = (
  commit: Commit,
  input: { tenantId: string; callId: string; chunkCount?: number | undefined },
): Promise<CallAccepted & { chunkCount: number }> =>
  commit(async (tx, emit) => {
    const { tenantId, callId } = input;
    const call = await lockCall(tx, tenantId, callId);
    if (!call) throw notFound("call", callId);
    if (call.source !== "recorder") throw conflict("not_a_recorder_call", "only a call opened with POST /v1/calls/recorder is finished this way");
    if (call.status !== "uploading") {
      if (input.chunkCount !== undefined && input.chunkCount !== call.expectedChunkCount) {
        throw conflict("upload_finished", `the upload was already finished with ${call.expectedChunkCount} chunks`);
      }
      return { id: callId, status: call.status, audioVersion: call.audioVersion, chunkCount: call.expectedChunkCount ?? 0 };
    }
    const chunks = await tx.chunk.findMany({
      where: { callId, audioVersion: call.audioVersion, parentChunkId: null },
      select: { index: true, durationSeconds: true, sizeBytes: true },
    });
    const indexes = new Set(chunks.map((chunk) => chunk.index));
    const chunkCount = input.chunkCount ?? (chunks.length === 0 ? 0 : Math.max(...indexes) + 1);
    if (chunkCount === 0) throw new ApiError(400, "no_chunks", "the call has no chunks to finish with");
    const missing = [...Array(chunkCount).keys()].filter((index) => !indexes.has(index));
    if (missing.length > 0) throw conflict("missing_chunks", `chunks ${missing.slice(0, 20).join(", ")} have not been uploaded`);
    if (indexes.size > chunkCount) throw conflict("chunk_count_mismatch", `${indexes.size} chunks were uploaded, more than chunkCount ${chunkCount}`);

    await tx.call.update({
      where: { id: callId },
      data: {
        status: "processing",
        uploadFinishedAt: new Date(),
        expectedChunkCount: chunkCount,
        durationSeconds: chunks.reduce((sum, chunk) => sum + (chunk.durationSeconds ?? 0), 0),
        sizeBytes: chunks.reduce((sum, chunk) => sum + (chunk.sizeBytes ?? 0n), 0n),
      },
    });
    await tx.stageRun.create({ data: { tenantId, callId, stage: "transcription", audioVersion: call.audioVersion, status: "queued" } });
    await emit("callUploadFinished", { tenantId, callId, chunkCount });
    return { id: callId, status: "processing" as const, audioVersion: call.audioVersion, chunkCount };
  });
