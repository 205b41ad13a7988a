import { deleteOrphanObjects } from "./orphan-objects.ts";
import { reapOverdueChunks } from "./overdue-chunks.ts";
import { reapOverdueRecordingFetches } from "./overdue-recording-fetches.ts";
import { reapOverdueStageRuns } from "./overdue-stage-runs.ts";
import { republishStaleOutbox } from "./stale-outbox.ts";
import { anySweep } from "./sweep.ts";
import { failUnconfirmedDials } from "./unconfirmed-dials.ts";
import { reapUnsettledTranscriptions } from "./unsettled-transcriptions.ts";
import { settleAbandonedUploads } from "./abandoned-uploads.ts";
import { completeSettledCalls } from "./uncompleted-calls.ts";

/**
 * In this order: uploads are finished before the ledger is looked at, stage rows before the outbox
 * (so the events a sweep queues are not themselves counted stale), storage last.
 */
export const allSweeps = [
  anySweep(settleAbandonedUploads),
  anySweep(reapOverdueChunks),
  anySweep(reapUnsettledTranscriptions),
  anySweep(reapOverdueStageRuns),
  anySweep(completeSettledCalls),
  anySweep(failUnconfirmedDials),
  anySweep(reapOverdueRecordingFetches),
  anySweep(republishStaleOutbox),
  anySweep(deleteOrphanObjects),
];

export type { StuckEntity } from "./sweep.ts";
