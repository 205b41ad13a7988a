import { claimLease, failCallAtStage, stageRunLeases, stillHoldsStageClaim, type ClaimWindow, type StageLease } from "@callflow/call-lifecycle";
import type { Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { commitWithEvents, type OutboxRelay } from "@callflow/messaging";
import type { BuiltRecording } from "./build-recording.ts";
import type { ChunkRow } from "./merge-plan.ts";

/** The merge stage run this worker owns, for one attempt. */
export interface ClaimedStage {
  lease: StageLease;
  tenantId: string;
  callId: string;
  audioVersion: number;
  attempt: number;
  failurePolicy: "fail" | "partial";
}

export type Claim =
  | { kind: "claimed"; stage: ClaimedStage }
  /** Merged before (stage succeeded or the recording exists): nothing to do but finish retention. */
  | { kind: "merged"; recordingId: string; skippedIndexes: number[] }
  /** Another worker runs it and its heartbeat is fresh. */
  | { kind: "busy"; heartbeatAt: Date | null }
  /** The stage failed, the call moved to another audio version or is gone: nothing to do. */
  | { kind: "not_applicable"; reason: string };

export interface StageError {
  code: string;
  message: string;
}

/**
 * The merge stage's rows in Postgres: the stage run is the guard, leased by compare-and-set on status
 * and attempt (the lease beats and hands the stage back).
 */
export interface MergeStageRepo {
  claim(input: { callId: string; audioVersion: number; window: ClaimWindow }): Promise<Claim>;
  chunksOf(callId: string, audioVersion: number): Promise<ChunkRow[]>;
  /** Recording, stage succeeded and callMerged, one transaction; null when the stage is no longer ours. */
  recordMerged(stage: ClaimedStage, recording: BuiltRecording, now: Date): Promise<{ recordingId: string } | null>;
  /**
   * The stage and the call fail with the error, callFailed emitted (once per call). With `claimed`,
   * only while that claim is still the stage's (a worker that lost it to a takeover fails nothing).
   */
  fail(target: { callId: string; audioVersion: number }, error: StageError, now: Date, claimed?: ClaimedStage): Promise<void>;
}

export function createMergeStageRepo(deps: { db: Db; topology: Topology; relay?: Pick<OutboxRelay, "publishNow"> }): MergeStageRepo {
  const { db, topology, relay } = deps;
  const leases = stageRunLeases(db);

  const mergedOf = async (callId: string, audioVersion: number): Promise<Claim | null> => {
    const recording = await db.mergedRecording.findUnique({ where: { callId_audioVersion: { callId, audioVersion } }, select: { id: true, skipped: true } });
    if (!recording) return null;
    const skipped = Array.isArray(recording.skipped) ? (recording.skipped as { index?: unknown }[]) : [];
    return { kind: "merged", recordingId: recording.id, skippedIndexes: skipped.map((s) => Number(s.index)).filter(Number.isInteger) };
  };

  return {
    claim: async ({ callId, audioVersion, window }) => {
      const call = await db.call.findUnique({ where: { id: callId }, select: { tenantId: true, audioVersion: true, failurePolicy: true } });
      if (!call) return { kind: "not_applicable", reason: "unknown call" };
      if (call.audioVersion !== audioVersion) return { kind: "not_applicable", reason: `call is at audio version ${call.audioVersion}` };
      const merged = await mergedOf(callId, audioVersion);
      if (merged) return merged;

      // The aggregator queues the stage with callTranscribed; a re-drive from an older release may not have.
      await db.stageRun.createMany({ data: [{ tenantId: call.tenantId, callId, stage: "merge", audioVersion, status: "queued" }], skipDuplicates: true });
      const lease = await claimLease(leases, { callId, stage: "merge", audioVersion }, window);
      if (lease) return { kind: "claimed", stage: { lease, tenantId: call.tenantId, callId, audioVersion, attempt: lease.attempt, failurePolicy: call.failurePolicy } };
      const stage = await db.stageRun.findUniqueOrThrow({ where: { callId_stage_audioVersion: { callId, stage: "merge", audioVersion } } });
      if (stage.status === "running") return { kind: "busy", heartbeatAt: stage.heartbeatAt };
      if (stage.status === "succeeded") return (await mergedOf(callId, audioVersion)) ?? { kind: "not_applicable", reason: "merge succeeded without a recording" };
      return { kind: "not_applicable", reason: `merge stage is ${stage.status}${stage.errorCode ? ` (${stage.errorCode})` : ""}` };
    },

    chunksOf: (callId, audioVersion) =>
      db.chunk.findMany({
        where: { callId, audioVersion },
        select: { id: true, index: true, parentChunkId: true, objectKey: true, startOffsetSeconds: true },
        orderBy: { index: "asc" },
      }),

    recordMerged: (stage, recording, now) =>
      commitWithEvents(
        db,
        topology,
        async (tx, emit) => {
          // The call's row lock orders this with failCallAtStage (reaper, dead letters) on the same call.
          await tx.$queryRaw`SELECT 1 FROM calls WHERE id = ${stage.callId}::uuid FOR UPDATE`;
          const { count } = await tx.stageRun.updateMany({
            where: { callId: stage.callId, stage: "merge", audioVersion: stage.audioVersion, status: "running", attempt: stage.attempt },
            data: { status: "succeeded", finishedAt: now, heartbeatAt: now, errorCode: null, errorMessage: null },
          });
          if (count !== 1) return null;
          const created = await tx.mergedRecording.create({
            data: {
              tenantId: stage.tenantId,
              callId: stage.callId,
              audioVersion: stage.audioVersion,
              objectKey: recording.objectKey,
              durationSeconds: recording.durationSeconds,
              sizeBytes: BigInt(recording.sizeBytes),
              codec: recording.codec,
              inputs: recording.inputs.map((i) => ({ chunkId: i.chunkId, index: i.index, durationSeconds: i.durationSeconds })),
              skipped: recording.skipped.map((s) => ({ index: s.index, chunkId: s.chunkId, reason: s.reason })),
              partial: recording.skipped.length > 0,
              verifiedAt: recording.verifiedAt,
            },
            select: { id: true },
          });
          await emit("callMerged", { tenantId: stage.tenantId, callId: stage.callId, recordingId: created.id });
          return { recordingId: created.id };
        },
        relay,
      ),

    fail: async (target, error, now, claimed) => {
      await commitWithEvents(
        db,
        topology,
        async (tx, emit) => {
          if (claimed && !(await stillHoldsStageClaim(tx, { callId: target.callId, stage: "merge", audioVersion: target.audioVersion, attempt: claimed.attempt }))) return;
          await failCallAtStage(tx, emit, { callId: target.callId, audioVersion: target.audioVersion, stage: "merge", errorCode: error.code, errorMessage: error.message, now });
        },
        relay,
      );
    },
  };
}
