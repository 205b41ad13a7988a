import type { MergePlan } from "./merge-plan.ts";
import type { RecordingStorage } from "./recording-storage.ts";

/**
 * Second phase of "verify before destroy" (invariant 8): runs only after the merged recording is
 * committed with its verification. Deletes the objects of every chunk that went into it (original
 * and split parts alike); a chunk left out of a partial merge keeps its audio, since the recording
 * does not contain it. Idempotent: deleting a missing key succeeds, so a redelivery may run it again.
 */
export async function deleteMergedChunks(storage: RecordingStorage, plan: MergePlan, skippedIndexes: readonly number[]): Promise<number> {
  const skipped = new Set(skippedIndexes);
  const keys = [...plan.objectsByIndex.entries()].filter(([index]) => !skipped.has(index)).flatMap(([, objectKeys]) => objectKeys);
  if (keys.length > 0) await storage.deleteMany(keys);
  return keys.length;
}
