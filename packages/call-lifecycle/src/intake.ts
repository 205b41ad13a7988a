import type { FailurePolicy, Prisma } from "@callflow/db";
import type { Emit, TransactionClient } from "@callflow/messaging";

/**
 * How a whole recording enters the pipeline, whoever received it: an upload, a finished tus upload
 * (services/ingest) or a placed call's recording (services/outbound-dialer). The call row, its one
 * chunk, the transcription stage run and the events announcing them commit in one transaction
 * (invariant 1), after the audio is stored and probed.
 */

/** Audio already in object storage, probed. */
export interface StoredAudio {
  key: string;
  sizeBytes: number;
  contentType: string;
  durationSeconds: number;
}

type Commit = <T>(work: (tx: TransactionClient, emit: Emit) => Promise<T>) => Promise<T>;

export interface CallAccepted {
  id: string;
  status: "uploading" | "processing" | "completed" | "failed";
  audioVersion: number;
}

export interface WholeUpload {
  tenantId: string;
  /** Chosen by the caller: the tus upload id, or a fresh UUID. Recording the same id twice is a no-op. */
  callId: string;
  source: "upload" | "resumable" | "dial";
  audio: StoredAudio;
  failurePolicy?: FailurePolicy;
  metadata?: Prisma.InputJsonObject;
  /** The upload's PII redaction override; unset: the tenant's setting. */
  redactPii?: boolean | undefined;
}

/**
 * Whether a new call is stored redacted (docs/design.md, "PII redaction"): the upload's override wins,
 * else the tenant's setting now. Stored on the call, so the call keeps it whatever the tenant changes.
 */
export const resolveRedactPii = async (tx: TransactionClient, tenantId: string, override: boolean | undefined): Promise<boolean> =>
  override ?? (await tx.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: { redactPii: true } })).redactPii;

/** Chunk rows queued for transcription plus the transcription stage run, for one audio version. */
export const queueSingleChunkVersion = async (
  tx: TransactionClient,
  emit: Emit,
  input: { tenantId: string; callId: string; audioVersion: number; audio: StoredAudio },
): Promise<void> => {
  const { tenantId, callId, audioVersion, audio } = input;
  const chunk = await tx.chunk.create({
    data: {
      tenantId,
      callId,
      audioVersion,
      index: 0,
      objectKey: audio.key,
      contentType: audio.contentType,
      sizeBytes: BigInt(audio.sizeBytes),
      durationSeconds: audio.durationSeconds,
      status: "queued",
    },
    select: { id: true, attempt: true },
  });
  await tx.stageRun.create({ data: { tenantId, callId, stage: "transcription", audioVersion, status: "queued" } });
  await emit("chunkReady", { tenantId, callId, chunkId: chunk.id, chunkIndex: 0, attempt: chunk.attempt });
  await emit("callUploadFinished", { tenantId, callId, chunkCount: 1 });
};

/** A whole recording (POST /v1/calls, a finished tus upload, a dial's recording) enters the pipeline. */
export const recordWholeUpload = (commit: Commit, input: WholeUpload): Promise<CallAccepted & { created: boolean }> =>
  commit(async (tx, emit) => {
    const existing = await tx.call.findFirst({ where: { id: input.callId, tenantId: input.tenantId }, select: { status: true, audioVersion: true } });
    if (existing) return { id: input.callId, ...existing, created: false };
    await tx.call.create({
      data: {
        id: input.callId,
        tenantId: input.tenantId,
        status: "processing",
        source: input.source,
        uploadFinishedAt: new Date(),
        expectedChunkCount: 1,
        durationSeconds: input.audio.durationSeconds,
        sizeBytes: BigInt(input.audio.sizeBytes),
        contentType: input.audio.contentType,
        failurePolicy: input.failurePolicy ?? "fail",
        metadata: input.metadata ?? {},
        redactPii: await resolveRedactPii(tx, input.tenantId, input.redactPii),
      },
    });
    await queueSingleChunkVersion(tx, emit, { tenantId: input.tenantId, callId: input.callId, audioVersion: 1, audio: input.audio });
    return { id: input.callId, status: "processing" as const, audioVersion: 1, created: true };
  });

