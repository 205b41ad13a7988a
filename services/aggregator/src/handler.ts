import type { CallUploadFinished, ChunkFailed, ChunkTranscribed } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { ack, retry, type DeadLetterHook, type Delivery, type Outcome } from "@callflow/messaging";
import type { Logger } from "@callflow/telemetry";
import type { Histogram } from "prom-client";
import type { CompletenessLedger } from "./ledger/completeness-ledger.ts";

const TRANSIENT_PG_CODES = new Set(["40P01", "40001"]);

const transientCode = (error: unknown): string | undefined => {
  const text = error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? "")}` : String(error);
  if (/deadlock detected/i.test(text)) return "40P01";
  if (/could not serialize access/i.test(text)) return "40001";
  const code = (error as { code?: unknown; cause?: { originalCode?: unknown } }).cause?.originalCode;
  return typeof code === "string" && TRANSIENT_PG_CODES.has(code) ? code : undefined;
};

/**
 * Any ledger event (chunk transcribed, chunk failed, upload finished) is a reason to look at the call:
 * the ledger decides from the rows, never from the event, so order and duplicates do not matter.
 */
export const createSettleOnLedgerEvent =
  (deps: { ledger: CompletenessLedger; logger: Logger; fanIn?: Pick<Histogram, "observe">; now?: () => number }) =>
  async (event: ChunkTranscribed | ChunkFailed | CallUploadFinished, ctx: Pick<Delivery, "eventKey" | "deliveryCount">): Promise<Outcome> => {
    try {
      const settlement = await deps.ledger.settle(event.callId);
      if (settlement.outcome === "transcribed" && settlement.lastChunkAt) {
        deps.fanIn?.observe(Math.max(0, ((deps.now ?? Date.now)() - settlement.lastChunkAt.getTime()) / 1_000));
      }
      if (settlement.outcome === "transcribed" || settlement.outcome === "failed") {
        deps.logger.info({ callId: event.callId, tenantId: event.tenantId, event: ctx.eventKey, ...settlement }, `call ${settlement.outcome}`);
      }
      return ack();
    } catch (error) {
      // Two deliveries for one call can meet on a lock another writer (ingest, reaper) holds: go again soon.
      const code = transientCode(error);
      if (code) return retry({ afterMs: 20 + Math.round(Math.random() * 80), code: "transient_conflict", message: `postgres ${code}` });
      throw error;
    }
  };

/**
 * A ledger or finishing event that exhausted its deliveries leaves the call unsettled: the error goes on
 * its transcription (or completion) stage, for the reaper to see and re-drive (the chunks themselves are fine).
 */
export const recordUnsettledOnDeadLetter =
  (db: Db): DeadLetterHook<"chunkTranscribed" | "chunkFailed" | "callUploadFinished" | "callMerged" | "callSummarized"> =>
  async ({ callId }, failure) => {
    if (!callId) return;
    const stage = failure.eventKey === "callMerged" || failure.eventKey === "callSummarized" ? "completion" : "transcription";
    await db.stageRun.updateMany({
      where: { callId, stage, status: { in: ["queued", "running"] } },
      data: { errorCode: "ledger_event_dead_lettered", errorMessage: `${failure.errorCode}: ${failure.errorMessage}`.slice(0, 2_000) },
    });
  };
