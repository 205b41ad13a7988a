import type { DialStatusChanged, Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { ack, commitWithEvents, dead, retry, type AckOutcome, type Clock, type DeadLetterHook, type DeadOutcome, type Delivery, type OutboxRelay, type RetryOutcome } from "@callflow/messaging";
import type { Logger } from "@callflow/telemetry";
import { queueRecordingFetch } from "../recordings/queue-fetch.ts";
import { advanceDial, DIAL_ROW, isFinished, isReportedStatus, type RetryPolicy, type Transition } from "./dial-transition.ts";

export interface ApplyDialStatusDeps {
  db: Db;
  clock: Clock;
  logger: Pick<Logger, "info" | "warn">;
  /** Busy and no-answer attempts are tried again up to the dial's `max_attempts`, this far apart. */
  retry: RetryPolicy;
  /** A recording callback queues the recording's fetch (its event through the outbox). */
  topology: Topology;
  relay?: Pick<OutboxRelay, "publishNow"> | undefined;
  recordingMaxAttempts: number;
}

/** ingest's word for a recording status callback (services/ingest/src/webhooks/twilio-dial-callback.ts). */
export const RECORDING_READY = "recording_ready";

/** What applying one report did. */
export type Applied =
  | Transition
  | { kind: "ignored"; reason: "unknown_dial" | "stale_attempt" | "other_call" | "not_a_report" | "recording" }
  /** A recording callback: the recording's fetch is queued (once per dial). */
  | { kind: "recording_queued" }
  /** The dial was canceled while its call is live: the caller should hang the call up. */
  | { kind: "hang_up"; providerCallId: string };

/**
 * The handler's answer: the runtime reads only `kind`; `applied` tells a caller (the dialer's
 * consumer wiring, a test) what happened, and `hang_up` that a canceled dial's call is still live:
 * the wiring hangs it up at the carrier.
 */
export type StatusOutcome = (AckOutcome & { readonly applied: Applied }) | RetryOutcome | DeadOutcome;

const MAX_ROUNDS = 3;

/** The error an active dial keeps when a report about it could not be applied at all (invariant 4). */
export const STATUS_REPORT_LOST = "status_report_dead_lettered";

/**
 * Applies dialStatusChanged to the dial, forward only (dial-transition.ts). Reports come from ingest
 * (Twilio's status callbacks, with the call id and the marker's attempt); the same subject also carries
 * announcements of changes made elsewhere (API cancel, reaper), which carry no call id and change
 * nothing here except that a canceled dial's live call is to be hung up. The applying dialer emits
 * nothing: the report it applies is already the announcement.
 */
export const createApplyDialStatus = (deps: ApplyDialStatusDeps) => {
  const applyOnce = (event: DialStatusChanged): Promise<Applied> =>
    commitWithEvents(deps.db, deps.topology, async (tx, emit): Promise<Applied> => {
      const dial = await tx.dial.findUnique({ where: { id: event.dialId }, select: DIAL_ROW });
      if (!dial || dial.tenantId !== event.tenantId) return { kind: "ignored", reason: "unknown_dial" };
      const live = dial.providerCallId ?? event.providerCallId;
      if (!event.providerCallId) {
        return dial.status === "canceled" && event.status === "canceled" && dial.providerCallId ? { kind: "hang_up", providerCallId: dial.providerCallId } : { kind: "ignored", reason: "not_a_report" };
      }
      if (event.attempt !== dial.attempt) return { kind: "ignored", reason: "stale_attempt" };
      if (dial.providerCallId && dial.providerCallId !== event.providerCallId) return { kind: "ignored", reason: "other_call" };
      if (event.status === RECORDING_READY) {
        if (!event.recordingUrl) return { kind: "ignored", reason: "not_a_report" };
        const queued = await queueRecordingFetch(tx, emit, { tenantId: dial.tenantId, dialId: dial.id, recordingUrl: event.recordingUrl, maxAttempts: deps.recordingMaxAttempts });
        return queued ? { kind: "recording_queued" } : { kind: "ignored", reason: "recording" };
      }
      if (!isReportedStatus(event.status)) return { kind: "ignored", reason: "not_a_report" };
      if (dial.status === "canceled" && !isFinished(event.status)) return { kind: "hang_up", providerCallId: live };
      return advanceDial(tx, dial, { status: event.status, providerCallId: event.providerCallId, durationSeconds: event.durationSeconds || undefined, source: "twilio callback" }, deps.clock.now(), deps.retry);
    }, deps.relay);

  const handle = async (event: DialStatusChanged, _ctx?: Pick<Delivery, "deliveryCount">): Promise<StatusOutcome> => {
    if (event.status !== RECORDING_READY && event.providerCallId && !isReportedStatus(event.status)) {
      return dead("unknown_dial_status", `dialStatusChanged for dial ${event.dialId} reports "${event.status}", which no dial status is`);
    }
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const applied = await applyOnce(event);
      if (applied.kind === "raced") continue;
      const log = { dialId: event.dialId, attempt: event.attempt, reported: event.status, applied };
      if (applied.kind === "hang_up") deps.logger.warn(log, "a canceled dial's call is still live: hang it up");
      else deps.logger.info(log, "dial status report applied");
      return { ...ack(), applied };
    }
    return retry({ code: "dial_contended", message: `dial ${event.dialId} changed under every one of ${MAX_ROUNDS} transitions` });
  };

  /**
   * A report given up on leaves its error on the dial while the dial is still active; the status is
   * left alone: the reconciler asks the provider and settles it. Idempotent: the same update again.
   */
  const onDeadLetter: DeadLetterHook<"dialStatusChanged"> = async (event, failure) => {
    await deps.db.dial.updateMany({
      where: { id: event.dialId, tenantId: event.tenantId, finishedAt: null },
      data: { errorCode: STATUS_REPORT_LOST, errorMessage: `the report "${event.status}" (attempt ${event.attempt}) was given up on: ${failure.errorCode}: ${failure.errorMessage}` },
    });
  };

  return { handle, onDeadLetter };
};
