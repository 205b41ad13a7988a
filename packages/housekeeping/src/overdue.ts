import { maxRunMs, type StageDeadlines } from "./policy.ts";

/** The facts of one stage row (a chunk or a stage run) that decide whether it is overdue. */
export interface StageRowFacts {
  status: string;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  heartbeatAt: Date | null;
  /** The audio the work is about: the chunk's, or the call's for merge and summary. */
  audioSeconds: number | null;
}

export type OverdueReason =
  /** queued and nobody claimed it (since it was queued or last re-driven). */
  | "queued_unclaimed"
  /** running without started_at: no worker can own such a row. */
  | "running_without_start"
  /** running, but its worker stopped beating: killed, or lost its connection. */
  | "heartbeat_lost"
  /** running and beating, but for longer than the audio justifies: a hung provider or loop. */
  | "run_timeout";

export interface Overdue {
  reason: OverdueReason;
  /** The moment the deadline counts from. */
  since: Date;
  deadlineMs: number;
}

/**
 * Whether a row is past its deadline, and why. A queued row's clock starts at its last write
 * (updated_at), not its creation: a re-drive restarts it, so N re-drives take N deadlines, not N sweeps.
 */
export const classifyStageRow = (row: StageRowFacts, deadlines: StageDeadlines, now: Date): Overdue | null => {
  const age = (since: Date) => now.getTime() - since.getTime();
  if (row.status === "queued") {
    const since = row.updatedAt > row.createdAt ? row.updatedAt : row.createdAt;
    return age(since) >= deadlines.queuedMs ? { reason: "queued_unclaimed", since, deadlineMs: deadlines.queuedMs } : null;
  }
  if (row.status !== "running") return null;
  if (!row.startedAt) return { reason: "running_without_start", since: row.updatedAt, deadlineMs: 0 };
  const beat = row.heartbeatAt ?? row.startedAt;
  if (age(beat) >= deadlines.heartbeatMs) return { reason: "heartbeat_lost", since: beat, deadlineMs: deadlines.heartbeatMs };
  const limit = maxRunMs(deadlines, row.audioSeconds);
  if (age(row.startedAt) >= limit) return { reason: "run_timeout", since: row.startedAt, deadlineMs: limit };
  return null;
};

export type Decision = { action: "redrive" } | { action: "fail"; errorCode: string; errorMessage: string };

export const WORKER_NOT_PROCESSING_QUEUE = "worker_not_processing_queue";
export const STAGE_TIMEOUT = "stage_timeout";
export const PROVIDER_TIMEOUT = "provider_timeout";
export const CALL_NOT_ACTIVE = "call_not_active";

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * Re-drive or fail-fast. A run that exceeded its time limit while its worker still beats is failed at
 * once: a re-drive would resume the same provider job and wait again. Lost workers and unclaimed
 * queues are re-driven up to `maxRedrives` times, then failed with a code saying which it was.
 */
export const decideOverdue = (
  overdue: Overdue,
  facts: { redrives: number; maxRedrives: number; callActive: boolean; providerJobId?: string | null | undefined; what: string },
): Decision => {
  if (!facts.callActive) {
    return { action: "fail", errorCode: CALL_NOT_ACTIVE, errorMessage: `${facts.what} was left ${overdue.reason} after its call stopped processing (or moved to another audio version)` };
  }
  if (overdue.reason === "run_timeout") {
    return facts.providerJobId
      ? { action: "fail", errorCode: PROVIDER_TIMEOUT, errorMessage: `provider job ${facts.providerJobId} of ${facts.what} gave no result within ${seconds(overdue.deadlineMs)}` }
      : { action: "fail", errorCode: STAGE_TIMEOUT, errorMessage: `${facts.what} ran longer than ${seconds(overdue.deadlineMs)}` };
  }
  if (facts.redrives < facts.maxRedrives) return { action: "redrive" };
  const after = `after ${facts.redrives} re-drive${facts.redrives === 1 ? "" : "s"}`;
  return overdue.reason === "queued_unclaimed"
    ? { action: "fail", errorCode: WORKER_NOT_PROCESSING_QUEUE, errorMessage: `no worker claimed ${facts.what} within ${seconds(overdue.deadlineMs)}, ${after}` }
    : { action: "fail", errorCode: STAGE_TIMEOUT, errorMessage: `${facts.what} lost its worker (${overdue.reason}) ${after}` };
};

export const describeOverdue = (overdue: Overdue, now: Date): string =>
  `${overdue.reason}: ${seconds(now.getTime() - overdue.since.getTime())} since ${overdue.since.toISOString()} (deadline ${seconds(overdue.deadlineMs)})`;
