export { completeCallIfDone, type CompletionOutcome } from "./complete-call.ts";
export { failCallAtStage, type FailOutcome, type StageFailure } from "./fail-call.ts";
export { lockCall, stillHoldsStageClaim, type LockedCall } from "./lock-call.ts";
export { enqueueCallNotification, enqueueLeadNotification, type CallNotificationEvent, type NotificationEvent } from "./notify.ts";
export {
  claimLease,
  claimWindow,
  keepLeaseAlive,
  leaseRemainingMs,
  type ClaimWindow,
  type KeepAliveOptions,
  type KeptAlive,
  type LeaseError,
  type LeaseStore,
  type StageLease,
} from "./stage-lease.ts";
export { stageRunLeases, type StageRunKey } from "./stage-run-leases.ts";
export { stageEnum, type CallStage } from "./stages.ts";
export { callPhase, type CallPhase, type CallPhaseView, type OpenPhase, type PhaseCallFacts, type PhaseStageFacts, type PhaseTime } from "./phase.ts";
export { queueSingleChunkVersion, recordWholeUpload, resolveRedactPii, type CallAccepted, type StoredAudio, type WholeUpload } from "./intake.ts";
export { callPrefix, chunkObjectKey } from "./object-keys.ts";
