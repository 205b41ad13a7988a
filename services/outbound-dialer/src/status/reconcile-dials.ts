import type { Topology } from "@callflow/contracts";
import { Prisma, type Db, type DialStatus } from "@callflow/db";
import { commitWithEvents, RetryableError, type Clock, type OutboxRelay } from "@callflow/messaging";
import type { Logger } from "@callflow/telemetry";
import type { CallStatus, Telephony } from "@callflow/telephony";
import { queueRecordingFetch, recordNoRecording } from "../recordings/queue-fetch.ts";
import { advanceDial, DIAL_ROW, isFinished, type ReportedStatus, type RetriedOutcome, type RetryPolicy, type Transition } from "./dial-transition.ts";

/** How long a dial may sit in each status without news before the provider is asked, and how often it may fail to answer. */
export interface ReconcileDeadlines {
  placedMs: number;
  ringingMs: number;
  /** The longest call allowed, with a margin: a call this long has surely ended or lost its callbacks. */
  inProgressMs: number;
  /** Unanswered `getCall`s (retryable errors) for one attempt before the dial is failed `provider_unreachable`. */
  maxProviderTries: number;
  /** Dials looked at in one pass. */
  batch: number;
}

export const DEFAULT_RECONCILE_DEADLINES: ReconcileDeadlines = Object.freeze({
  placedMs: 2 * 60_000,
  ringingMs: 2 * 60_000,
  inProgressMs: 60 * 60_000,
  maxProviderTries: 5,
  batch: 100,
});

export interface ReconcileDialsDeps {
  db: Db;
  /** dialStatusChanged for what the reconciler settles: no callback announced it. */
  topology: Topology;
  relay?: Pick<OutboxRelay, "publishNow"> | undefined;
  telephony: Pick<Telephony, "getCall">;
  clock: Clock;
  logger: Pick<Logger, "info" | "warn">;
  deadlines?: Partial<ReconcileDeadlines>;
  /** As for callbacks: a busy or unanswered attempt with attempts left is queued again. */
  retry?: RetryPolicy | undefined;
  /**
   * Recordings: a dial the reconciler settles `completed` has its recording's fetch queued; an answered
   * call whose recording callback has not come `waitMs` after it ended is asked about (`getCall`).
   */
  recordings?: { waitMs: number; maxAttempts: number } | undefined;
}

/** After this long without a recording, an answered call is taken to have none. */
const NO_RECORDING_AFTER_MS = 10 * 60_000;

export const PROVIDER_UNREACHABLE = "provider_unreachable";
export const PROVIDER_REJECTED = "provider_rejected";

/** What one pass did to one dial. */
export type ReconcileAction =
  | { dialId: string; outcome: "settled" | "advanced"; from: DialStatus; to: ReportedStatus }
  /** The provider says the call is where the dial is: news, so its clock starts again. */
  | { dialId: string; outcome: "confirmed"; status: DialStatus }
  /** The attempt ended busy or unanswered with attempts left: queued for the next. */
  | { dialId: string; outcome: "requeued"; from: DialStatus; ended: RetriedOutcome }
  | { dialId: string; outcome: "unreachable"; tries: number; error: string }
  | { dialId: string; outcome: "failed"; errorCode: string; error: string }
  /** Changed meanwhile (a callback arrived, the API canceled): the next pass looks again. */
  | { dialId: string; outcome: "raced" }
  /** A completed dial's recording, whose callback never came: its fetch queued, or none to fetch. */
  | { dialId: string; outcome: "recording_queued" | "no_recording" };

export interface ReconcileReport {
  /** Stale dials found (at most `batch`). */
  stale: number;
  actions: ReconcileAction[];
}

interface StaleDial {
  id: string;
  tenantId: string;
  status: DialStatus;
  attempt: number;
  providerCallId: string;
  heartbeatAt: Date | null;
  since: Date;
  tries: number;
}

/** The provider's statuses as a placed dial's: a call it has accepted but not yet rung is `placed`. */
const reported = (status: CallStatus): ReportedStatus => (status === "queued" ? "placed" : status);

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * One pass over dials whose call is under way (`placed`, `ringing`, `in_progress`, with a provider
 * call id) and has had no news for longer than its status allows: the provider is asked (`getCall`)
 * and the dial settled through the same forward-only transition the callbacks use. A provider that
 * does not answer is asked again on later passes; after `maxProviderTries` the dial is failed
 * `provider_unreachable`. Dials without a call id are the reaper's (`provider_no_sid`). The dialer
 * runs this on a timer; it returns what it did for the caller's log and metrics.
 */
export const reconcileStaleDials = async (deps: ReconcileDialsDeps): Promise<ReconcileReport> => {
  const deadlines = { ...DEFAULT_RECONCILE_DEADLINES, ...deps.deadlines };
  const now = deps.clock.now();
  const ago = (ms: number) => new Date(now.getTime() - ms);
  // "News" is the heartbeat (set by every transition) or a timeline row, but not the reconciler's own
  // unanswered tries, which are counted instead; tries from before the latest news are forgotten.
  const stale = await deps.db.$queryRaw<StaleDial[]>(Prisma.sql`
    SELECT * FROM (
      SELECT d.id::text AS id, d.tenant_id::text AS "tenantId", d.status::text AS status, d.attempt,
             d.provider_call_id AS "providerCallId", d.heartbeat_at AS "heartbeatAt",
             GREATEST(d.created_at, COALESCE(d.started_at, d.created_at), COALESCE(d.heartbeat_at, d.created_at),
                      COALESCE((SELECT max(e.at) FROM dial_events e WHERE e.dial_id = d.id AND e.error_code IS DISTINCT FROM ${PROVIDER_UNREACHABLE}), d.created_at)) AS since
      FROM dials d
      WHERE d.status IN ('placed', 'ringing', 'in_progress') AND d.provider_call_id IS NOT NULL
    ) s
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS tries FROM dial_events e
      WHERE e.dial_id = s.id::uuid AND e.attempt = s.attempt AND e.error_code = ${PROVIDER_UNREACHABLE} AND e.at >= s.since
    ) t
    WHERE s.since <= CASE s.status WHEN 'placed' THEN ${ago(deadlines.placedMs)}::timestamptz WHEN 'ringing' THEN ${ago(deadlines.ringingMs)}::timestamptz ELSE ${ago(deadlines.inProgressMs)}::timestamptz END
    ORDER BY s.since
    LIMIT ${deadlines.batch}`);

  const actions: ReconcileAction[] = [];
  for (const dial of stale) {
    const action = await reconcileOne(deps, deadlines, dial, now);
    (action.outcome === "unreachable" || action.outcome === "failed" ? deps.logger.warn : deps.logger.info).call(deps.logger, { dial: dial.id, attempt: dial.attempt, since: dial.since, action }, "stale dial reconciled");
    actions.push(action);
  }
  return { stale: stale.length, actions };
};

/** A compare-and-set on what the pass read: anything that moved the dial since makes this a no-op. */
const unchangedSince = (dial: StaleDial) => ({ id: dial.id, status: dial.status, attempt: dial.attempt, heartbeatAt: dial.heartbeatAt });

const reconcileOne = async (deps: ReconcileDialsDeps, deadlines: ReconcileDeadlines, dial: StaleDial, now: Date): Promise<ReconcileAction> => {
  const commit = <T>(work: Parameters<typeof commitWithEvents<T>>[2]) => commitWithEvents(deps.db, deps.topology, work, deps.relay);
  let facts;
  try {
    facts = await deps.telephony.getCall(dial.providerCallId);
  } catch (error) {
    const retryable = error instanceof RetryableError;
    const tries = dial.tries + 1;
    if (retryable && tries < deadlines.maxProviderTries) {
      const detail = `reconciler: getCall ${dial.providerCallId} unanswered (${tries}/${deadlines.maxProviderTries}): ${messageOf(error)}`;
      const recorded = await commit(async (tx) => {
        if ((await tx.dial.count({ where: unchangedSince(dial) })) !== 1) return false;
        await tx.dialEvent.create({ data: { dialId: dial.id, status: dial.status, attempt: dial.attempt, at: now, errorCode: PROVIDER_UNREACHABLE, detail } });
        return true;
      });
      return recorded ? { dialId: dial.id, outcome: "unreachable", tries, error: messageOf(error) } : { dialId: dial.id, outcome: "raced" };
    }
    const errorCode = retryable ? PROVIDER_UNREACHABLE : PROVIDER_REJECTED;
    const errorMessage = retryable
      ? `the provider did not answer for call ${dial.providerCallId} ${tries} times: ${messageOf(error)}`
      : `the provider refused to describe call ${dial.providerCallId}: ${messageOf(error)}`;
    const failed = await commit(async (tx, emit) => {
      const { count } = await tx.dial.updateMany({ where: unchangedSince(dial), data: { status: "failed", errorCode, errorMessage, finishedAt: now, heartbeatAt: now } });
      if (count !== 1) return false;
      await tx.dialEvent.create({ data: { dialId: dial.id, status: "failed", attempt: dial.attempt, at: now, errorCode, detail: errorMessage } });
      await emit("dialStatusChanged", { tenantId: dial.tenantId, dialId: dial.id, status: "failed", attempt: dial.attempt, providerCallId: dial.providerCallId });
      return true;
    });
    return failed ? { dialId: dial.id, outcome: "failed", errorCode, error: errorMessage } : { dialId: dial.id, outcome: "raced" };
  }

  const status = reported(facts.status);
  const transition = await commit(async (tx, emit): Promise<Transition> => {
    const current = await tx.dial.findFirst({ where: unchangedSince(dial), select: DIAL_ROW });
    if (!current) return { kind: "raced" };
    const moved = await advanceDial(tx, current, { status, providerCallId: dial.providerCallId, durationSeconds: facts.durationSeconds, source: "reconciler (getCall)" }, now, deps.retry);
    if (moved.kind === "moved") {
      if (moved.to === "completed" && facts.recordingUrl && deps.recordings) {
        await queueRecordingFetch(tx, emit, { tenantId: dial.tenantId, dialId: dial.id, recordingUrl: facts.recordingUrl, maxAttempts: deps.recordings.maxAttempts });
      }
      await emit("dialStatusChanged", {
        tenantId: dial.tenantId,
        dialId: dial.id,
        status,
        attempt: dial.attempt,
        providerCallId: dial.providerCallId,
        ...(facts.durationSeconds === undefined ? {} : { durationSeconds: facts.durationSeconds }),
        ...(facts.recordingUrl ? { recordingUrl: facts.recordingUrl } : {}),
      });
    } else if (moved.kind !== "requeued") {
      // The provider agrees with the dial (a long call still talking): its deadline starts again.
      await tx.dial.updateMany({ where: unchangedSince(dial), data: { heartbeatAt: now } });
    }
    return moved;
  });
  if (transition.kind === "raced") return { dialId: dial.id, outcome: "raced" };
  if (transition.kind === "requeued") return { dialId: dial.id, outcome: "requeued", from: transition.from, ended: transition.outcome };
  if (transition.kind === "moved") return { dialId: dial.id, outcome: isFinished(transition.to) ? "settled" : "advanced", from: transition.from, to: transition.to };
  return { dialId: dial.id, outcome: "confirmed", status: transition.current };
};

/**
 * Answered calls (`completed`) whose recording callback was lost: `waitMs` after the call ended with no
 * fetch queued, the provider is asked for the call's recording and its fetch queued; a call still
 * without one `NO_RECORDING_AFTER_MS` after it ended is recorded as having none (the recording
 * endpoints answer 404 `no_recording`). A provider that does not answer is asked again next pass.
 */
export const reconcileMissingRecordings = async (deps: ReconcileDialsDeps & { recordings: { waitMs: number; maxAttempts: number } }): Promise<ReconcileReport> => {
  const deadlines = { ...DEFAULT_RECONCILE_DEADLINES, ...deps.deadlines };
  const now = deps.clock.now();
  const missing = await deps.db.$queryRaw<{ id: string; tenantId: string; providerCallId: string; finishedAt: Date }[]>`
    SELECT d.id::text AS id, d.tenant_id::text AS "tenantId", d.provider_call_id AS "providerCallId", d.finished_at AS "finishedAt"
      FROM dials d
     WHERE d.status = 'completed' AND d.provider_call_id IS NOT NULL
       AND d.finished_at <= ${new Date(now.getTime() - deps.recordings.waitMs)}::timestamptz
       AND NOT EXISTS (SELECT 1 FROM recording_fetches f WHERE f.dial_id = d.id)
     ORDER BY d.finished_at
     LIMIT ${deadlines.batch}`;
  const actions: ReconcileAction[] = [];
  for (const dial of missing) {
    let recordingUrl: string | undefined;
    try {
      ({ recordingUrl } = await deps.telephony.getCall(dial.providerCallId));
    } catch (error) {
      deps.logger.warn({ dial: dial.id, err: error }, "asking the carrier for a completed call's recording failed; asking again next pass");
      continue;
    }
    const commit = <T>(work: Parameters<typeof commitWithEvents<T>>[2]) => commitWithEvents(deps.db, deps.topology, work, deps.relay);
    if (recordingUrl) {
      const url = recordingUrl;
      if (await commit((tx, emit) => queueRecordingFetch(tx, emit, { tenantId: dial.tenantId, dialId: dial.id, recordingUrl: url, maxAttempts: deps.recordings.maxAttempts }))) {
        actions.push({ dialId: dial.id, outcome: "recording_queued" });
      }
    } else if (dial.finishedAt.getTime() <= now.getTime() - NO_RECORDING_AFTER_MS) {
      const reason = `the carrier has no recording for call ${dial.providerCallId} ${Math.round((now.getTime() - dial.finishedAt.getTime()) / 60_000)} minutes after it ended`;
      if (await commit((tx) => recordNoRecording(tx, { tenantId: dial.tenantId, dialId: dial.id, reason, now }))) actions.push({ dialId: dial.id, outcome: "no_recording" });
    }
  }
  return { stale: missing.length, actions };
};
