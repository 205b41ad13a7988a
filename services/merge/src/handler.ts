import type { CallTranscribed } from "@callflow/contracts";
import { ack, classifyError, PermanentError, retry, type DeadLetterHook, type Delivery, type Outcome } from "@callflow/messaging";
import type { Logger } from "@callflow/telemetry";
import type { AudioTools } from "@callflow/media";
import type { OutputFormat } from "./audio/output-format.ts";
import { buildRecording, type Concatenate, type DurationTolerance } from "./recordings/build-recording.ts";
import { planMerge } from "./recordings/merge-plan.ts";
import type { ClaimedStage, MergeStageRepo } from "./recordings/merge-stage-repo.ts";
import { mergedRecordingKey } from "./recordings/object-keys.ts";
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
  maxDeliver: number;
  heartbeatMs: number;
  /** A running stage whose heartbeat is older than this has lost its worker and is claimed again. */
  staleAfterMs: number;
  workDir: string;
  logger: Logger;
  now?: () => Date;
  /** ffmpeg's part, replaceable so a test can make it produce the wrong thing. */
  concatenate?: Concatenate;
}

type MergeDelivery = Pick<Delivery, "deliveryCount" | "working" | "signal">;

/** Keeps the stage's heartbeat and the message's ack deadline fresh; aborts when the stage is taken over. */
function keepAlive(deps: MergeOnTranscribedDeps, stage: ClaimedStage, ctx: MergeDelivery) {
  const lost = new AbortController();
  const now = deps.now ?? (() => new Date());
  const timer = setInterval(() => {
    ctx.working();
    deps.stages.heartbeat(stage, now()).then(
      (ours) => {
        if (!ours) lost.abort(new Error("the merge stage was taken over by another worker"));
      },
      (error: unknown) => deps.logger.warn({ err: error, callId: stage.callId }, "merge heartbeat failed; trying again"),
    );
  }, deps.heartbeatMs);
  return { signal: AbortSignal.any([ctx.signal, lost.signal]), lost: lost.signal, stop: () => clearInterval(timer) };
}

/**
 * callTranscribed → one verified audio file for the call's audio version. The merge stage run is the
 * guard against duplicates: claimed queued → running by compare-and-set, and succeeded in the same
 * transaction that stores the recording and emits callMerged. Completing the call is not ours: the
 * completion consumer reacts to callMerged.
 */
export const createMergeOnTranscribed = (deps: MergeOnTranscribedDeps) => {
  const now = deps.now ?? (() => new Date());

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
    const started = now();
    const claim = await deps.stages.claim({ callId, audioVersion, now: started, staleBefore: new Date(started.getTime() - deps.staleAfterMs) });
    switch (claim.kind) {
      case "merged":
        return retainIfAsked(callId, audioVersion, claim.skippedIndexes);
      case "not_applicable":
        deps.logger.info({ callId, audioVersion, reason: claim.reason }, "merge not applicable");
        return ack();
      case "busy": {
        // The owner holds its own delivery; on our last one, leave the stage to it (and the reaper).
        if (ctx.deliveryCount >= deps.maxDeliver) return ack();
        // Look again soon enough to ack once the owner commits, and to take over once its heartbeat is stale.
        const untilStale = (claim.heartbeatAt?.getTime() ?? started.getTime()) + deps.staleAfterMs - started.getTime();
        const afterMs = Math.min(Math.max(untilStale, 1_000), Math.max(deps.heartbeatMs * 3, 1_000));
        return retry({ afterMs, code: "merge_in_progress", message: "another worker is merging this call" });
      }
      case "claimed":
        break;
    }

    const { stage } = claim;
    const alive = keepAlive(deps, stage, ctx);
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
        now,
        ...(deps.concatenate ? { concatenate: deps.concatenate } : {}),
      });
      alive.stop();
      const recorded = await deps.stages.recordMerged(stage, recording, now());
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
      if (alive.lost.aborted) return ack();
      const outcome = classifyError(error);
      const failure = { code: outcome.code, message: outcome.message };
      if (outcome.kind === "dead" || ctx.deliveryCount >= deps.maxDeliver) {
        await deps.stages.fail({ callId, audioVersion }, failure, now(), stage);
        deps.logger.warn({ callId, audioVersion, ...failure }, "merge failed");
        return ack();
      }
      await deps.stages.release(stage, failure, now());
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
