import { claimWindow, keepLeaseAlive } from "@callflow/call-lifecycle";
import type { CallTranscribed } from "@callflow/contracts";
import { ack, classifyError, retry, systemClock, type Clock, type DeadLetterHook, type Delivery, type Outcome } from "@callflow/messaging";
import type { Logger } from "@callflow/telemetry";
import { EMPTY_TRANSCRIPT_SUMMARY } from "./summarizers/empty-transcript.ts";
import type { Summarizer } from "./summarizers/port.ts";
import { summaryContent } from "./summarizers/summary-content.ts";
import type { StageKey, SummaryStage } from "./stage/summary-stage.ts";

export interface SummarizeTranscriptDeps {
  stage: SummaryStage;
  summarizer: Summarizer;
  logger: Logger;
  /** The stage row's heartbeat period while the summarizer works. */
  heartbeatMs: number;
  clock?: Clock;
}

/** A running stage whose heartbeat is older than this many periods belongs to a worker that died. */
export const STALE_HEARTBEATS = 3;

/** An invariant-4 code for the unexpected: a transcript the event names that is not there. */
export const TRANSCRIPT_MISSING = "summary_transcript_missing";

/**
 * callTranscribed → one Summary revision per claim of the summary stage, stored with the stage's
 * success and callSummarized in one transaction. Duplicates find the stage settled or busy; a re-run
 * finds it queued again. The call is not completed here: the completion consumer reacts to callSummarized.
 */
export const createSummarizeTranscript =
  (deps: SummarizeTranscriptDeps) =>
  async (event: Pick<CallTranscribed, "tenantId" | "callId" | "transcriptId" | "audioVersion">, ctx: Pick<Delivery, "working" | "signal" | "lastDelivery">): Promise<Outcome> => {
    const clock = deps.clock ?? systemClock;
    const key: StageKey = { tenantId: event.tenantId, callId: event.callId, audioVersion: event.audioVersion };
    const log = deps.logger.child({ callId: event.callId, tenantId: event.tenantId, audioVersion: event.audioVersion });
    const staleAfterMs = deps.heartbeatMs * STALE_HEARTBEATS;

    const loaded = await deps.stage.load(key, event.transcriptId);
    if (loaded.kind === "stale") {
      log.info({ reason: loaded.reason }, "callTranscribed is stale; nothing to summarize");
      return ack();
    }

    const claim = await deps.stage.claim(key, claimWindow(clock, staleAfterMs));
    if (claim.kind === "settled") return ack();
    if (claim.kind === "busy") {
      // The owner holds its own message, so a duplicate out of deliveries can go without a dead letter.
      if (ctx.lastDelivery) return ack();
      // Another worker has it; come back when its claim would be stale if it died meanwhile.
      return retry({ afterMs: staleAfterMs, code: "summary_in_progress", message: "another worker is summarizing this transcript" });
    }
    const { lease } = claim;
    const { attempt } = lease;

    if (loaded.kind === "missing_transcript") {
      await deps.stage.fail(key, attempt, { code: TRANSCRIPT_MISSING, message: `transcript ${event.transcriptId} named by callTranscribed does not exist` });
      return ack();
    }
    const { transcript } = loaded;

    // Aborted when another worker has taken the stage over: its result would be discarded, so this
    // attempt stops asking the summarizer (and paying for the LLM) at once.
    const alive = keepLeaseAlive(lease, {
      delivery: ctx,
      everyMs: deps.heartbeatMs,
      clock,
      what: "summary",
      onHeartbeatFailed: (error) => log.warn({ err: error }, "summary heartbeat failed"),
      onLost: () => log.warn({ attempt }, "the summary stage was taken over; this attempt stops"),
    });
    const started = clock.now().getTime();
    try {
      const content = transcript.text.trim()
        ? await deps.summarizer.summarize(
            { text: transcript.text, segments: transcript.segments, referenceDate: transcript.callCreatedAt },
            { heartbeat: () => ctx.working(), signal: alive.signal },
          )
        : EMPTY_TRANSCRIPT_SUMMARY;
      alive.stop();
      // Validated here too, whatever the summarizer did: nothing unvalidated is ever stored.
      const checked = summaryContent.safeParse(content);
      if (!checked.success) {
        await deps.stage.fail(key, attempt, { code: "summary_invalid_output", message: `the ${deps.summarizer.model} summarizer produced invalid output: ${checked.error.message}` });
        return ack();
      }
      const stored = await deps.stage.store(key, attempt, { transcriptId: transcript.id, model: deps.summarizer.model, content: checked.data });
      if (stored.stored) log.info({ attempt, revision: stored.revision, summaryId: stored.summaryId, model: deps.summarizer.model, ms: clock.now().getTime() - started }, "call summarized");
      else log.warn({ attempt }, "the summary stage was taken over meanwhile; this attempt's summary was discarded");
      return ack();
    } catch (error) {
      alive.stop();
      // The new owner settles the stage; this attempt has nothing left to do or to hand back.
      if (alive.lost) return ack();
      const outcome = classifyError(error);
      if (outcome.kind === "dead") {
        const failed = await deps.stage.fail(key, attempt, { code: outcome.code, message: outcome.message });
        log.warn({ attempt, errorCode: outcome.code, error: outcome.message, outcome: failed }, "summary failed");
        return ack();
      }
      // Transient (shutdown, a long Retry-After, Postgres unreachable): the claim is handed back so
      // the redelivery need not wait for the heartbeat to go stale.
      await lease
        .release({ code: outcome.code, message: outcome.message })
        .catch((releaseError: unknown) => log.warn({ err: releaseError }, "could not release the summary claim; it goes stale instead"));
      return outcome;
    } finally {
      alive.stop();
    }
  };

/** A dead-lettered callTranscribed leaves its summary stage with an owner no more: it fails, with why. */
const DEAD_LETTERED = "summary_dead_lettered";
/** A duplicate that gave up waiting for another worker: that worker still owns (and settles) the stage. */
const IN_PROGRESS = "summary_in_progress";

export const failSummaryOnDeadLetter =
  (stage: Pick<SummaryStage, "fail">): DeadLetterHook<"callTranscribed"> =>
  async ({ tenantId, callId, audioVersion }, failure) => {
    if (failure.errorCode === IN_PROGRESS) return;
    const errorCode = failure.errorCode.startsWith("summary_") ? failure.errorCode : DEAD_LETTERED;
    await stage.fail({ tenantId, callId, audioVersion }, undefined, {
      code: errorCode,
      message: `callTranscribed dead-lettered (${failure.reason}): ${failure.errorCode}: ${failure.errorMessage}`,
    });
  };
