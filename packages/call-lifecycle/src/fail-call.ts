import type { Emit, TransactionClient } from "@callflow/messaging";
import { lockCall } from "./lock-call.ts";
import { enqueueCallNotification } from "./notify.ts";
import { stageEnum, type CallStage } from "./stages.ts";

export interface StageFailure {
  callId: string;
  audioVersion: number;
  stage: CallStage;
  errorCode: string;
  errorMessage: string;
  now: Date;
}

export type FailOutcome =
  /** The stage and the call are failed, callFailed is queued and the customer notified. */
  | { outcome: "failed" }
  /** The stage is failed; the call had already failed (another stage was first): nothing re-announced. */
  | { outcome: "stage_failed"; callStatus: string }
  /** The call moved on (another audio version, or completed): nothing changed. */
  | { outcome: "stale"; reason: string };

/**
 * A stage failed for good (invariant 4): its stage run and the call carry the error, `callFailed` is
 * emitted once and the customer's webhook queued, all in the caller's transaction. A stage that has
 * already succeeded is never overwritten.
 */
export async function failCallAtStage(tx: TransactionClient, emit: Emit, failure: StageFailure): Promise<FailOutcome> {
  const { callId, audioVersion, stage, errorCode, now } = failure;
  const errorMessage = failure.errorMessage.slice(0, 2_000);
  const call = await lockCall(tx, callId);
  if (!call) return { outcome: "stale", reason: "unknown call" };
  if (call.audioVersion !== audioVersion) return { outcome: "stale", reason: `call is at audio version ${call.audioVersion}` };
  if (call.status === "completed") return { outcome: "stale", reason: "call completed" };

  const changed = await tx.$queryRaw<{ attempt: number }[]>`
    INSERT INTO stage_runs (id, tenant_id, call_id, stage, audio_version, status, finished_at, error_code, error_message, updated_at)
    VALUES (gen_random_uuid(), ${call.tenantId}::uuid, ${callId}::uuid, ${stage}::stage, ${audioVersion}, 'failed', ${now}, ${errorCode}, ${errorMessage}, ${now})
    ON CONFLICT (call_id, stage, audio_version) DO UPDATE
      SET status = 'failed', finished_at = EXCLUDED.finished_at, error_code = EXCLUDED.error_code,
          error_message = EXCLUDED.error_message, updated_at = EXCLUDED.updated_at
      WHERE stage_runs.status <> 'succeeded'
    RETURNING attempt`;
  if (changed.length === 0) return { outcome: "stale", reason: `${stage} already succeeded` };
  if (call.status === "failed") return { outcome: "stage_failed", callStatus: call.status };

  // A retry gives the stage a new attempt: failing again is news to the customer.
  await markCallFailed(tx, emit, { tenantId: call.tenantId, callId, audioVersion, stage, attempt: changed[0]!.attempt, errorCode, errorMessage });
  return { outcome: "failed" };
}

/**
 * The call's own part of failing: its row, `callFailed` and the customer's notice, keyed by the
 * stage's attempt so a retry that fails again is notified again. The caller holds the call's lock.
 */
export async function markCallFailed(
  tx: TransactionClient,
  emit: Emit,
  input: { tenantId: string; callId: string; audioVersion: number; stage: CallStage; attempt: number; errorCode: string; errorMessage: string },
): Promise<void> {
  const { tenantId, callId, audioVersion, stage, errorCode, errorMessage } = input;
  await tx.call.update({ where: { id: callId }, data: { status: "failed", failedStage: stage, errorCode, errorMessage } });
  await emit("callFailed", { tenantId, callId, stage: stageEnum[stage], errorCode });
  await enqueueCallNotification(tx, emit, {
    tenantId,
    callId,
    event: "call.failed",
    audioVersion,
    occurrence: `${stage}@${input.attempt}`,
    error: { code: errorCode, message: errorMessage },
  });
}
