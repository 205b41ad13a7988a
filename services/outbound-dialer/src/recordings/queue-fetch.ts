import { randomUUID } from "node:crypto";
import type { Emit, TransactionClient } from "@callflow/messaging";
import { NO_RECORDING } from "./fetch-recording.ts";

/**
 * Queues the fetch of a placed call's recording, once per dial, in the caller's transaction (the one
 * that applies the recording callback, or the reconciler's): the row chooses the id of the call the
 * recording becomes, and the job's event carries the dial's id only. False when it was queued before.
 */
export const queueRecordingFetch = async (
  tx: TransactionClient,
  emit: Emit,
  input: { tenantId: string; dialId: string; recordingUrl: string; maxAttempts: number },
): Promise<boolean> => {
  const { count } = await tx.recordingFetch.createMany({
    data: [{ dialId: input.dialId, tenantId: input.tenantId, callId: randomUUID(), recordingUrl: input.recordingUrl, maxAttempts: input.maxAttempts }],
    skipDuplicates: true,
  });
  if (count === 1) await emit("dialRecordingFetchRequested", { tenantId: input.tenantId, dialId: input.dialId });
  return count === 1;
};

/** The provider has no recording for an answered call (recording off, or it says none): the answer is final. */
export const recordNoRecording = async (tx: TransactionClient, input: { tenantId: string; dialId: string; reason: string; now: Date }): Promise<boolean> => {
  const { count } = await tx.recordingFetch.createMany({
    data: [{ dialId: input.dialId, tenantId: input.tenantId, callId: randomUUID(), recordingUrl: null, status: "failed", finishedAt: input.now, errorCode: NO_RECORDING, errorMessage: input.reason }],
    skipDuplicates: true,
  });
  return count === 1;
};
