import { Stage as EventStage } from "@callflow/contracts";
import type { Stage } from "@callflow/db";
import { conflict, notFound } from "../http/api-error.ts";
import type { ReceivedAudio } from "../uploads/receive-audio.ts";
import type { Commit, Emit, TransactionClient } from "./commit.ts";
import { lockCall, queueSingleChunkVersion } from "./intake.ts";
import { TERMINAL_CALL } from "./progress.ts";

/** Re-processing through the same durable path: rows reset and events queued in one transaction. */

const EVENT_STAGE: Readonly<Record<Stage, EventStage>> = {
  transcription: EventStage.TRANSCRIPTION,
  merge: EventStage.MERGE,
  summary: EventStage.SUMMARY,
  completion: EventStage.COMPLETION,
};

const requeueStage = async (tx: TransactionClient, emit: Emit, key: { tenantId: string; callId: string; stage: Stage; audioVersion: number }) => {
  const { tenantId, callId, stage, audioVersion } = key;
  const run = await tx.stageRun.upsert({
    where: { callId_stage_audioVersion: { callId, stage, audioVersion } },
    create: { tenantId, callId, stage, audioVersion, status: "queued" },
    update: { status: "queued", errorCode: null, errorMessage: null, finishedAt: null, heartbeatAt: null },
  });
  await emit("stageRedriven", { tenantId, callId, stage: EVENT_STAGE[stage], entityId: run.id, attempt: run.attempt });
};

export interface RetryResult {
  id: string;
  status: "processing";
  audioVersion: number;
  stages: Stage[];
}

/**
 * POST /v1/calls/{id}/retry: a failed call's failed work is queued again. Failed chunks go back to
 * `queued` with a chunkReady each (their attempt counters keep counting); merge and summary are
 * re-driven from the stored transcript with callTranscribed, which their consumers treat idempotently.
 */
export const retryFailedCall = (commit: Commit, input: { tenantId: string; callId: string; actor: string }): Promise<RetryResult> =>
  commit(async (tx, emit) => {
    const { tenantId, callId } = input;
    const call = await lockCall(tx, tenantId, callId);
    if (!call) throw notFound("call", callId);
    if (call.status !== "failed") throw conflict("call_not_failed", `the call is ${call.status}; only a failed call can be retried`);
    const audioVersion = call.audioVersion;
    const stages = await tx.stageRun.findMany({ where: { callId, audioVersion } });
    const statusOf = (stage: Stage) => stages.find((run) => run.stage === stage)?.status;
    const retried: Stage[] = [];

    if (statusOf("transcription") !== "succeeded") {
      const failedChunks = await tx.chunk.findMany({ where: { callId, audioVersion, status: "failed" }, orderBy: { index: "asc" } });
      for (const chunk of failedChunks) {
        await tx.chunk.update({
          where: { id: chunk.id },
          data: { status: "queued", errorCode: null, errorMessage: null, startedAt: null, heartbeatAt: null, finishedAt: null },
        });
        await emit("chunkReady", { tenantId, callId, chunkId: chunk.id, chunkIndex: chunk.index, attempt: chunk.attempt });
      }
      await requeueStage(tx, emit, { tenantId, callId, stage: "transcription", audioVersion });
      retried.push("transcription");
      // The ledger re-checks completeness: with no failed chunk left it can emit callTranscribed.
      if (call.uploadFinishedAt && call.expectedChunkCount) await emit("callUploadFinished", { tenantId, callId, chunkCount: call.expectedChunkCount });
    } else {
      const transcript = await tx.transcript.findUnique({ where: { callId_audioVersion: { callId, audioVersion } } });
      if (!transcript) throw conflict("transcript_missing", "the transcription stage succeeded but its transcript is missing; trim or re-upload the call");
      for (const stage of ["merge", "summary"] as const) {
        if (statusOf(stage) !== "succeeded") {
          await requeueStage(tx, emit, { tenantId, callId, stage, audioVersion });
          retried.push(stage);
        }
      }
      if (retried.length > 0) {
        await emit("callTranscribed", { tenantId, callId, transcriptId: transcript.id, partial: transcript.partial, audioVersion });
      } else {
        await requeueStage(tx, emit, { tenantId, callId, stage: "completion", audioVersion });
        retried.push("completion");
        const summary = await tx.summary.findFirst({ where: { transcriptId: transcript.id }, orderBy: { revision: "desc" }, select: { id: true } });
        if (summary) await emit("callSummarized", { tenantId, callId, summaryId: summary.id });
      }
    }

    await tx.call.update({ where: { id: callId }, data: { status: "processing", failedStage: null, errorCode: null, errorMessage: null, completedAt: null } });
    await tx.auditEntry.create({
      data: {
        actor: input.actor,
        action: "call.retry",
        entityType: "call",
        entityId: callId,
        tenantId,
        reason: "retry requested through the API",
        before: { status: call.status, failedStage: call.failedStage, errorCode: call.errorCode, errorMessage: call.errorMessage },
        after: { status: "processing", stages: retried },
      },
    });
    return { id: callId, status: "processing" as const, audioVersion, stages: retried };
  });

/** The audio a trim cuts from: the verified merged recording, or the single chunk of a whole upload. */
export const trimSourceKey = async (
  db: Pick<TransactionClient, "mergedRecording" | "chunk">,
  call: { id: string; tenantId: string; audioVersion: number },
): Promise<string | null> => {
  const merged = await db.mergedRecording.findFirst({
    where: { callId: call.id, tenantId: call.tenantId, audioVersion: call.audioVersion, verifiedAt: { not: null } },
    select: { objectKey: true },
  });
  if (merged) return merged.objectKey;
  const chunks = await db.chunk.findMany({
    where: { callId: call.id, tenantId: call.tenantId, audioVersion: call.audioVersion, parentChunkId: null },
    select: { objectKey: true },
    take: 2,
  });
  return chunks.length === 1 ? chunks[0]!.objectKey : null;
};

export const assertTrimmable = (call: { status: string }): void => {
  if (!TERMINAL_CALL.has(call.status)) throw conflict("call_in_progress", `the call is ${call.status}; trim it once it is completed or failed`);
};

/**
 * POST /v1/calls/{id}/trim, after the cut is stored: the call gets a new audio version whose single
 * chunk is queued, exactly like a fresh upload. Older versions' rows and artifacts stay for reference.
 */
export const recordTrimmedVersion = (
  commit: Commit,
  input: { tenantId: string; callId: string; fromVersion: number; audio: ReceivedAudio; actor: string; range: { startSeconds: number; endSeconds: number } },
) =>
  commit(async (tx, emit) => {
    const { tenantId, callId, audio } = input;
    const call = await lockCall(tx, tenantId, callId);
    if (!call) throw notFound("call", callId);
    assertTrimmable(call);
    if (call.audioVersion !== input.fromVersion) throw conflict("call_changed", "the call got a new audio version meanwhile; look at it again");
    const audioVersion = call.audioVersion + 1;
    await tx.call.update({
      where: { id: callId },
      data: {
        audioVersion,
        status: "processing",
        uploadFinishedAt: new Date(),
        expectedChunkCount: 1,
        durationSeconds: audio.durationSeconds,
        sizeBytes: BigInt(audio.sizeBytes),
        contentType: audio.contentType,
        partial: false,
        missingChunkIndexes: [],
        failedStage: null,
        errorCode: null,
        errorMessage: null,
        completedAt: null,
      },
    });
    await queueSingleChunkVersion(tx, emit, { tenantId, callId, audioVersion, audio });
    await tx.auditEntry.create({
      data: {
        actor: input.actor,
        action: "call.trim",
        entityType: "call",
        entityId: callId,
        tenantId,
        reason: `trim to ${input.range.startSeconds}-${input.range.endSeconds} s requested through the API`,
        before: { status: call.status, audioVersion: call.audioVersion, durationSeconds: call.durationSeconds },
        after: { status: "processing", audioVersion, durationSeconds: audio.durationSeconds },
      },
    });
    return { id: callId, status: "processing" as const, audioVersion };
  });
