import { claimWindow, keepLeaseAlive, leaseRemainingMs } from "@callflow/call-lifecycle";
import type { CallTranscribed } from "@callflow/contracts";
import { ack, classifyError, PermanentError, retry, systemClock, type Clock, type DeadLetterHook, type Delivery, type Outcome } from "@callflow/messaging";
import type { Logger } from "@callflow/telemetry";
import type { AudioTools } from "@callflow/media";
import type { OutputFormat } from "./audio/output-format.ts";
import { buildRecording, type Concatenate, type DurationTolerance } from "./recordings/build-recording.ts";
import { planMerge } from "./recordings/merge-plan.ts";
import type { MergeStageRepo } from "./recordings/merge-stage-repo.ts";
import { mergedRecordingKey } from "./recordings/object-keys.ts";
import type { PrefetchedInputs } from "./recordings/prefetched-inputs.ts";
import type { RecordingStorage } from "./recordings/recording-storage.ts";
import { deleteMergedChunks } from "./recordings/retention.ts";

export interface MergeOnTranscribedDeps {
  stages: MergeStageRepo;
  storage: RecordingStorage;
  tools: AudioTools;
  format: OutputFormat;
  tolerance: DurationTolerance;
  /** Delete the chunk objects once the merged recording is committed (CALLFLOW_MERGE_DELETE_CHUNKS). */
  deleteChunks: boolean;
  heartbeatMs: number;
  /** A running stage whose heartbeat is older than this has lost its worker and is claimed again. */
  staleAfterMs: number;
  workDir: string;
  logger: Logger;
  clock?: Clock;
  /** ffmpeg's part, replaceable so a test can make it produce the wrong thing. */
  concatenate?: Concatenate;
  /** Inputs downloaded and probed as the call's chunks arrived (the mergePrefetch consumer). */
  prefetched?: Pick<PrefetchedInputs, "take">;
}

type MergeDelivery = Pick<Delivery, "lastDelivery" | "working" | "signal">;

/**
 * callTranscribed → one verified audio file for the call's audio version. The merge stage run is the
 * guard against duplicates: claimed queued → running by compare-and-set, and succeeded in the same
 * transaction that stores the recording and emits callMerged. Completing the call is not ours: the
 * completion consumer reacts to callMerged.
 */
export const createMergeOnTranscribed = (deps: MergeOnTranscribedDeps) => {
  const clock = deps.clock ?? systemClock;

  const retainIfAsked = async (callId: string, audioVersion: number, skippedIndexes: readonly number[]): Promise<Outcome> => {
    if (!deps.deleteChunks) return ack();
    try {
      const plan = await planMerge(await deps.stages.chunksOf(callId, audioVersion), deps.storage.exists);
      const deleted = await deleteMergedChunks(deps.storage, plan, skippedIndexes);
      deps.logger.info({ callId, audioVersion, deleted }, "chunk objects deleted after a verified merge");
      return ack();
    } catch (error) {
      // The recording is committed; only the clean-up is left, and a redelivery runs it again.
      return retry({ code: "merge_retention_incomplete", message: error instanceof Error ? error.message : String(error) });
    }
  };

  return async (event: Pick<CallTranscribed, "callId" | "audioVersion">, ctx: MergeDelivery): Promise<Outcome> => {
    const { callId, audioVersion } = event;
    const window = claimWindow(clock, deps.staleAfterMs);
    const claim = await deps.stages.claim({ callId, audioVersion, window });
    switch (claim.kind) {
      case "merged":
        return retainIfAsked(callId, audioVersion, claim.skippedIndexes);
      case "not_applicable":
        deps.logger.info({ callId, audioVersion, reason: claim.reason }, "merge not applicable");
        return ack();
      case "busy": {
        // The owner holds its own delivery; on our last one, leave the stage to it (and the reaper).
        if (ctx.lastDelivery) return ack();
        // Look again soon enough to ack once the owner commits, and to take over once its heartbeat is stale.
        const untilStale = leaseRemainingMs(claim.heartbeatAt ?? window.now, window);
        const afterMs = Math.min(Math.max(untilStale, 1_000), Math.max(deps.heartbeatMs * 3, 1_000));
        return retry({ afterMs, code: "merge_in_progress", message: "another worker is merging this call" });
      }
      case "claimed":
        break;
    }

    const { stage } = claim;
    const alive = keepLeaseAlive(stage.lease, {
      delivery: ctx,
      everyMs: deps.heartbeatMs,
      clock,
      what: "merge",
      onHeartbeatFailed: (error) => deps.logger.warn({ err: error, callId }, "merge heartbeat failed; trying again"),
    });
    try {
      const plan = await planMerge(await deps.stages.chunksOf(callId, audioVersion), deps.storage.exists);
      if (plan.inputs.length === 0) throw new PermanentError("merge_no_chunks", `call ${callId} has no chunks at audio version ${audioVersion}`);
      const recording = await buildRecording({
        tools: deps.tools,
        format: deps.format,
        tolerance: deps.tolerance,
        storage: deps.storage,
        workDir: deps.workDir,
        objectKey: mergedRecordingKey({ tenantId: stage.tenantId, callId, audioVersion, attempt: stage.attempt, extension: deps.format.extension }),
        planned: plan.inputs,
        policy: stage.failurePolicy,
        signal: alive.signal,
        now: () => clock.now(),
        ...(deps.concatenate ? { concatenate: deps.concatenate } : {}),
        ...(deps.prefetched ? { prefetched: deps.prefetched } : {}),
      });
      alive.stop();
      const recorded = await deps.stages.recordMerged(stage, recording, clock.now());
      if (!recorded) {
        deps.logger.warn({ callId, audioVersion, attempt: stage.attempt }, "merge stage taken over before commit; the other worker's result stands");
        return ack();
      }
      deps.logger.info(
        { callId, audioVersion, recordingId: recorded.recordingId, inputs: recording.inputs.length, skipped: recording.skipped.length, durationSeconds: recording.durationSeconds },
        "call merged",
      );
      return retainIfAsked(callId, audioVersion, recording.skipped.map((s) => s.index));
    } catch (error) {
      alive.stop();
      if (alive.lost) return ack();
      const outcome = classifyError(error);
      const failure = { code: outcome.code, message: outcome.message };
      if (outcome.kind === "dead" || ctx.lastDelivery) {
        await deps.stages.fail({ callId, audioVersion }, failure, clock.now(), stage);
        deps.logger.warn({ callId, audioVersion, ...failure }, "merge failed");
        return ack();
      }
      await stage.lease
        .release(failure)
        .catch((releaseError: unknown) => deps.logger.warn({ err: releaseError, callId }, "could not release the merge stage; it goes stale instead"));
      return outcome;
    } finally {
      alive.stop();
    }
  };
};

/**
 * A callTranscribed that exhausted its deliveries (or was undecodable) fails the merge stage and the
 * call with the reason, instead of leaving the stage queued for nobody (invariants 2 and 4).
 */
export const failMergeOnDeadLetter =
  (stages: Pick<MergeStageRepo, "fail">): DeadLetterHook<"callTranscribed"> =>
  async ({ callId, audioVersion }, failure) => {
    await stages.fail({ callId, audioVersion }, { code: failure.errorCode, message: `merge gave up (${failure.reason}): ${failure.errorMessage}` }, new Date());
  };
