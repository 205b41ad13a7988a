import type { TransactionClient } from "@callflow/messaging";

export interface LockedCall {
  id: string;
  tenantId: string;
  status: "uploading" | "processing" | "completed" | "failed";
  audioVersion: number;
}

/**
 * Takes the call's row lock for the rest of the transaction: every writer of a call's terminal state
 * (aggregator, merge, summary, completion, reaper) goes through it, so two of them cannot both decide.
 */
export async function lockCall(tx: TransactionClient, callId: string): Promise<LockedCall | undefined> {
  const rows = await tx.$queryRaw<LockedCall[]>`
    SELECT id::text AS id, tenant_id::text AS "tenantId", status::text AS status, audio_version AS "audioVersion"
    FROM calls WHERE id = ${callId}::uuid FOR UPDATE`;
  return rows[0];
}

/**
 * Whether a worker's claim on a stage still holds, decided under the call's lock and then the stage
 * row's (the order every writer takes them), so no takeover can land before the caller's writes:
 * a worker that lost its claim must not fail the stage its successor now runs.
 */
export async function stillHoldsStageClaim(
  tx: TransactionClient,
  claim: { callId: string; stage: "merge" | "summary"; audioVersion: number; attempt: number },
): Promise<boolean> {
  await lockCall(tx, claim.callId);
  const [run] = await tx.$queryRaw<{ status: string; attempt: number }[]>`
    SELECT status::text AS status, attempt FROM stage_runs
    WHERE call_id = ${claim.callId}::uuid AND stage = ${claim.stage}::stage AND audio_version = ${claim.audioVersion} FOR UPDATE`;
  return run?.status === "running" && run.attempt === claim.attempt;
}
