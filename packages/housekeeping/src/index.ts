export { DEFAULT_POLICY, policyWithAge, maxRunMs, maxAttempts, redriveWindowFor, type ReaperPolicy, type StageDeadlines, type ReapedStage, type AbandonedUploadPolicy } from "./policy.ts";
export { reaperPolicyFields, reaperPolicyOf, reaperPolicyFromEnv } from "./policy-config.ts";
export { sweepNow, findStuck, type SweepOptions, type SweepResult, type SweeperDeps } from "./sweep-now.ts";
export { reaperMetrics, REAPED_STAGES, REDRIVE_KINDS, type ReaperMetrics } from "./metrics.ts";
export { CALL_STATUSES, DIAL_STATUSES, readPipelineState, registerPipelineState, type PipelineState, type PipelineStateOptions } from "./pipeline-state.ts";
export type { ReaperAction, ActionOutcome, Commit, SweepPorts, BeforeWriteHook } from "./actions.ts";
export type { StuckEntity } from "./sweeps/sweep.ts";
export { attemptsOfCall, type AttemptOf } from "./attempts.ts";
