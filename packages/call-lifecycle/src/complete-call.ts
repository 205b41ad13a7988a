import type { Emit, TransactionClient } from "@callflow/messaging";
import { markCallFailed } from "./fail-call.ts";
import { lockCall } from "./lock-call.ts";
import { enqueueCallNotification } from "./notify.ts";

export type CompletionOutcome =
  | { outcome: "completed" }
  /** Merge or summary is not stored yet: the other one's event will complete the call. */
  | { outcome: "waiting"; pending: string[] }
  /** Merge or summary failed for good: the call can never complete, so it fails with that stage's error. */
  | { outcome: "failed"; stage: "merge" | "summary" }
  /** Completed before, failed, or another audio version: nothing changed. */
  | { outcome: "not_applicable"; reason: string };

/**
 * `completed` only once the merged recording and the summary of the call's current audio version are
 * both stored (their stage runs succeeded): never a "finished" flag before the work is done. Runs
 * under the call's row lock, so the two finishing stages cannot both complete it.
 */
export async function completeCallIfDone(
  tx: TransactionClient,
  emit: Emit,
  /** Without an audio version: the call's current one (the finishing events do not carry it). */
  input: { callId: string; audioVersion?: number; now: Date },
): Promise<CompletionOutcome> {
  const { callId, now } = input;
  const call = await lockCall(tx, callId);
  if (!call) return { outcome: "not_applicable", reason: "unknown call" };
  const audioVersion = input.audioVersion ?? call.audioVersion;
  if (call.audioVersion !== audioVersion) return { outcome: "not_applicable", reason: `call is at audio version ${call.audioVersion}` };
  if (call.status !== "processing") return { outcome: "not_applicable", reason: `call is ${call.status}` };

  const stages = await tx.stageRun.findMany({
    where: { callId, audioVersion, stage: { in: ["merge", "summary"] } },
    select: { stage: true, status: true, attempt: true, errorCode: true, errorMessage: true },
  });
  // A processing call with a failed stage (a summary re-run reopened a call whose merge had failed
  // too) would wait here forever, with nothing left to re-drive: it fails with that stage's error.
  const stage = (["merge", "summary"] as const).find((name) => stages.some((run) => run.stage === name && run.status === "failed"));
  if (stage) {
    const failed = stages.find((run) => run.stage === stage)!;
    const errorCode = failed.errorCode ?? `${stage}_failed`;
    const errorMessage = failed.errorMessage ?? `the ${stage} stage failed`;
    await markCallFailed(tx, emit, { tenantId: call.tenantId, callId, audioVersion, stage, attempt: failed.attempt, errorCode, errorMessage });
    return { outcome: "failed", stage };
  }
  const pending = (["merge", "summary"] as const).filter((stage) => stages.find((run) => run.stage === stage)?.status !== "succeeded");
  if (pending.length > 0) return { outcome: "waiting", pending };

  await tx.call.update({ where: { id: callId }, data: { status: "completed", completedAt: now, failedStage: null, errorCode: null, errorMessage: null } });
  await tx.stageRun.upsert({
    where: { callId_stage_audioVersion: { callId, stage: "completion", audioVersion } },
    create: { tenantId: call.tenantId, callId, stage: "completion", audioVersion, status: "succeeded", attempt: 1, startedAt: now, finishedAt: now },
    update: { status: "succeeded", finishedAt: now, errorCode: null, errorMessage: null },
  });
  await emit("callCompleted", { tenantId: call.tenantId, callId });
  // Whether the call becomes a lead is the leads consumer's to decide (the tenant's setting, the call's source).
  await emit("leadRequested", { tenantId: call.tenantId, callId });
  await enqueueCallNotification(tx, emit, { tenantId: call.tenantId, callId, event: "call.completed", audioVersion });
  return { outcome: "completed" };
}
