export { DEFAULT_POLICY, policyWithAge, maxRunMs, maxAttempts, redriveWindowFor, type ReaperPolicy, type StageDeadlines, type ReapedStage, type AbandonedUploadPolicy } from "./policy.ts";
export { reaperPolicyFields, reaperPolicyOf, reaperPolicyFromEnv } from "./policy-config.ts";
export { sweepNow, findStuck, type SweepOptions, type SweepResult, type SweeperDeps } from "./sweep-now.ts";
export { reaperMetrics, type ReaperMetrics } from "./metrics.ts";
export type { ReaperAction, ActionOutcome, Commit, SweepPorts, BeforeWriteHook } from "./actions.ts";
export type { StuckEntity } from "./sweeps/sweep.ts";
export { attemptsOfCall, type AttemptOf } from "./attempts.ts";
