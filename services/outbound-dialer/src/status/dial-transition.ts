import { FINISHED_DIAL_STATUSES, type DialStatus } from "@callflow/db";
import type { TransactionClient } from "@callflow/messaging";

/** The statuses a provider can report for a placed call, in the `dial_status` words. */
export const REPORTED_STATUSES = ["placed", "ringing", "in_progress", "completed", "busy", "no_answer", "failed", "canceled"] as const satisfies readonly DialStatus[];
export type ReportedStatus = (typeof REPORTED_STATUSES)[number];

export const isReportedStatus = (status: string): status is ReportedStatus => (REPORTED_STATUSES as readonly string[]).includes(status);

const FINISHED: ReadonlySet<DialStatus> = new Set(FINISHED_DIAL_STATUSES);
export const isFinished = (status: DialStatus): boolean => FINISHED.has(status);

/**
 * How far along a dial is. A report moves a dial only to a higher rank: callbacks arrive out of
 * order and twice, and a `ringing` after `in_progress` must not take the dial back. Every final
 * status has the same rank, so the first one reported wins.
 */
const RANK: Readonly<Record<DialStatus, number>> = {
  queued: 0,
  scheduled: 0,
  placing: 1,
  placed: 2,
  ringing: 3,
  in_progress: 4,
  completed: 5,
  busy: 5,
  no_answer: 5,
  failed: 5,
  canceled: 5,
};

/** Statuses a report may move a dial out of: the attempt has reached the provider (or is reaching it). */
const UNDER_WAY: ReadonlySet<DialStatus> = new Set(["placing", "placed", "ringing", "in_progress"]);

/** What the provider said about one attempt, from a callback or from the reconciler's `getCall`. */
export interface StatusReport {
  status: ReportedStatus;
  providerCallId: string;
  durationSeconds?: number | undefined;
  /** Who said it, for the timeline: `twilio callback`, `reconciler (getCall)`. */
  source: string;
  /** Set for `failed`: invariant 4. */
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
}

/** The columns a transition compares and sets. */
export interface DialRow {
  id: string;
  tenantId: string;
  status: DialStatus;
  attempt: number;
  providerCallId: string | null;
  heartbeatAt: Date | null;
  maxAttempts: number;
}

export const DIAL_ROW = { id: true, tenantId: true, status: true, attempt: true, providerCallId: true, heartbeatAt: true, maxAttempts: true } as const;

/** Outcomes that end an attempt but not the dial while it has attempts left (`max_attempts`). */
export const RETRIED_OUTCOMES = ["busy", "no_answer"] as const satisfies readonly ReportedStatus[];
export type RetriedOutcome = (typeof RETRIED_OUTCOMES)[number];
const isRetriedOutcome = (status: ReportedStatus): status is RetriedOutcome => (RETRIED_OUTCOMES as readonly string[]).includes(status);

/** How an attempt that ended busy or unanswered is tried again; one policy per dialer for now. */
export interface RetryPolicy {
  /** From the report to the next attempt's `next_attempt_at`. */
  spacingMs: number;
}

export type Transition =
  | { kind: "moved"; from: DialStatus; to: ReportedStatus }
  /** The attempt ended busy or unanswered with attempts left: back in the queue for the next one. */
  | { kind: "requeued"; from: DialStatus; outcome: RetriedOutcome; nextAttemptAt: Date }
  /** Nothing written: the dial is already there or further along, finished, or not under way. */
  | { kind: "unchanged"; reason: "duplicate" | "behind" | "finished" | "not_under_way"; current: DialStatus }
  /** The row changed between the read and the compare-and-set: read it again. */
  | { kind: "raced" };

/** The error a `failed` report leaves on the dial when the provider said no more. */
export const PROVIDER_FAILED = "provider_failed";

const detailOf = (report: StatusReport): string => {
  const duration = report.durationSeconds === undefined ? "" : `, ${report.durationSeconds} s`;
  return report.errorMessage ?? `${report.source}: ${report.providerCallId}${duration}`;
};

/**
 * Moves `dial` (as read in `tx`) forward to the reported status: a compare-and-set on (status,
 * attempt) with its `dial_events` row, in the caller's transaction. Sets the provider call id when the
 * placer has not committed it yet (a callback can overtake the placer's own commit); a final status
 * sets `finished_at`, and `failed` its error.
 */
export const advanceDial = async (tx: TransactionClient, dial: DialRow, report: StatusReport, now: Date, retry?: RetryPolicy): Promise<Transition> => {
  if (isFinished(dial.status)) return { kind: "unchanged", reason: "finished", current: dial.status };
  if (!UNDER_WAY.has(dial.status)) return { kind: "unchanged", reason: "not_under_way", current: dial.status };
  if (RANK[report.status] < RANK[dial.status]) return { kind: "unchanged", reason: "behind", current: dial.status };
  if (report.status === dial.status) return { kind: "unchanged", reason: "duplicate", current: dial.status };
  if (retry && isRetriedOutcome(report.status) && dial.attempt < dial.maxAttempts) return requeueAttempt(tx, dial, report, report.status, now, retry);

  const final = isFinished(report.status);
  const failed = report.status === "failed";
  const { count } = await tx.dial.updateMany({
    where: { id: dial.id, status: dial.status, attempt: dial.attempt },
    data: {
      status: report.status,
      heartbeatAt: now,
      ...(dial.providerCallId ? {} : { providerCallId: report.providerCallId }),
      ...(final ? { finishedAt: now } : {}),
      ...(failed ? { errorCode: report.errorCode ?? PROVIDER_FAILED, errorMessage: report.errorMessage ?? `the carrier reported call ${report.providerCallId} failed` } : {}),
    },
  });
  if (count !== 1) return { kind: "raced" };
  await tx.dialEvent.create({
    data: { dialId: dial.id, status: report.status, attempt: dial.attempt, errorCode: failed ? (report.errorCode ?? PROVIDER_FAILED) : null, detail: detailOf(report) },
  });
  return { kind: "moved", from: dial.status, to: report.status };
};

/**
 * Ends this attempt and queues the next: `queued` at now + spacing, the outcome as the error. The
 * attempt number stays until the placer claims the dial (`attempt + 1`), so a late report of this
 * attempt finds the dial `queued` (not under way) and changes nothing: forward only still holds.
 * The call id is cleared: the next attempt's call is another.
 */
const requeueAttempt = async (tx: TransactionClient, dial: DialRow, report: StatusReport, outcome: RetriedOutcome, now: Date, retry: RetryPolicy): Promise<Transition> => {
  const nextAttemptAt = new Date(now.getTime() + retry.spacingMs);
  const message = `attempt ${dial.attempt} of ${dial.maxAttempts} ended ${outcome}; next attempt at ${nextAttemptAt.toISOString()}`;
  const { count } = await tx.dial.updateMany({
    where: { id: dial.id, status: dial.status, attempt: dial.attempt },
    data: { status: "queued", nextAttemptAt, heartbeatAt: null, providerCallId: null, errorCode: outcome, errorMessage: message },
  });
  if (count !== 1) return { kind: "raced" };
  await tx.dialEvent.create({ data: { dialId: dial.id, status: "queued", attempt: dial.attempt, at: now, errorCode: outcome, detail: `${detailOf(report)}; ${message}` } });
  return { kind: "requeued", from: dial.status, outcome, nextAttemptAt };
};
