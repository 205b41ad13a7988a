export { completeCallIfDone, type CompletionOutcome } from "./complete-call.ts";
export { failCallAtStage, type FailOutcome, type StageFailure } from "./fail-call.ts";
export { lockCall, stillHoldsStageClaim, type LockedCall } from "./lock-call.ts";
export { enqueueCallNotification, type CallNotificationEvent } from "./notify.ts";
export { stageEnum, type CallStage } from "./stages.ts";
