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
