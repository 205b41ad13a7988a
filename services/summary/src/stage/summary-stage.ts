import { claimLease, failCallAtStage, stageRunLeases, stillHoldsStageClaim, type ClaimWindow, type StageLease } from "@callflow/call-lifecycle";
import type { Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { commitWithEvents, type OutboxRelay } from "@callflow/messaging";
import type { TranscriptSegment } from "../summarizers/port.ts";
import type { SummaryContent } from "../summarizers/summary-content.ts";
import { redactSummary } from "./redact-summary.ts";

/**
 * The summary stage's rows: its stage run (claimed by compare-and-set, so one worker summarizes a
 * transcript at a time), the Summary revisions and the events that announce them.
 *
 * The "already done" decision is the stage run's status, not whether a Summary exists: a re-run
 * (`POST /v1/calls/{id}/summary/retry`) puts a succeeded stage back to `queued` while revision 1 still
 * exists, and must produce revision 2; a duplicate delivery finds it `succeeded` (or `running`) and
 * does nothing. The claim is a lease on the stage run, and every write after it is conditional on
 * (status running, the claimed attempt), so a worker that lost its claim to a takeover can never
 * store or fail anything.
 */

export interface StageKey {
  tenantId: string;
  callId: string;
  audioVersion: number;
}

export type Claim =
  | { kind: "claimed"; lease: StageLease }
  /** Succeeded (a duplicate delivery) or failed (terminal until a re-run queues it again). */
  | { kind: "settled"; status: "succeeded" | "failed" }
  /** Running under another worker whose heartbeat is fresh. */
  | { kind: "busy"; heartbeatAt: Date | null };

export interface TranscriptToSummarize {
  id: string;
  text: string;
  segments: TranscriptSegment[];
  /** The call's creation time: relative dates in the call resolve against it. */
  callCreatedAt: Date;
}

export type Loaded =
  | { kind: "ready"; transcript: TranscriptToSummarize }
  /** The call or transcript is gone, or the call moved to another audio version: nothing to do. */
  | { kind: "stale"; reason: string }
  | { kind: "missing_transcript" };

export type StoreResult = { stored: true; summaryId: string; revision: number } | { stored: false };

export interface SummaryStage {
  load(key: StageKey, transcriptId: string): Promise<Loaded>;
  claim(key: StageKey, window: ClaimWindow): Promise<Claim>;
  /** Stores a revision, redacted first when the call redacts PII. */
  store(key: StageKey, attempt: number, summary: { transcriptId: string; model: string; content: SummaryContent }): Promise<StoreResult>;
  fail(key: StageKey, attempt: number | undefined, error: { code: string; message: string }): Promise<string>;
}

const readSegments = (value: unknown): TranscriptSegment[] =>
  Array.isArray(value)
    ? value.flatMap((raw: unknown) => {
        if (typeof raw !== "object" || raw === null) return [];
        const segment = raw as Record<string, unknown>;
        if (typeof segment.text !== "string") return [];
        return [{ start: Number(segment.start) || 0, end: Number(segment.end) || 0, text: segment.text }];
      })
    : [];

export function createSummaryStage(deps: { db: Db; topology: Topology; relay?: Pick<OutboxRelay, "publishNow">; now?: () => Date }): SummaryStage {
  const { db, topology, relay } = deps;
  const now = deps.now ?? (() => new Date());
  const where = (key: StageKey) => ({ callId: key.callId, stage: "summary" as const, audioVersion: key.audioVersion });

  const leases = stageRunLeases(db);
  const claimRow = (key: StageKey, window: ClaimWindow) => claimLease(leases, where(key), window);

  return {
    load: async (key, transcriptId) => {
      const call = await db.call.findFirst({ where: { id: key.callId, tenantId: key.tenantId }, select: { audioVersion: true, createdAt: true } });
      if (!call) return { kind: "stale", reason: "unknown call" };
      if (call.audioVersion !== key.audioVersion) return { kind: "stale", reason: `the call is at audio version ${call.audioVersion}` };
      const transcript = await db.transcript.findFirst({ where: { id: transcriptId, callId: key.callId } });
      if (!transcript) return { kind: "missing_transcript" };
      if (transcript.audioVersion !== key.audioVersion) return { kind: "stale", reason: `the transcript is of audio version ${transcript.audioVersion}` };
      return {
        kind: "ready",
        transcript: { id: transcript.id, text: transcript.text, segments: readSegments(transcript.segments), callCreatedAt: call.createdAt },
      };
    },

    claim: async (key, window) => {
      const lease = await claimRow(key, window);
      if (lease) return { kind: "claimed", lease };
      const run = await db.stageRun.findUnique({ where: { callId_stage_audioVersion: where(key) }, select: { status: true, heartbeatAt: true } });
      if (run?.status === "succeeded" || run?.status === "failed") return { kind: "settled", status: run.status };
      if (run) return { kind: "busy", heartbeatAt: run.heartbeatAt };
      // The aggregator queues the stage with the transcript; a missing row (a replayed event from
      // before stage rows existed) is queued here, and claimed like any other.
      await db.stageRun.createMany({ data: [{ tenantId: key.tenantId, ...where(key), status: "queued" }], skipDuplicates: true });
      const created = await claimRow(key, window);
      return created ? { kind: "claimed", lease: created } : { kind: "busy", heartbeatAt: null };
    },

    store: (key, attempt, summary) =>
      commitWithEvents(
        db,
        topology,
        async (tx, emit): Promise<StoreResult> => {
          const at = now();
          const owned = await tx.stageRun.updateMany({
            where: { ...where(key), status: "running", attempt },
            data: { status: "succeeded", finishedAt: at, heartbeatAt: at, errorCode: null, errorMessage: null },
          });
          if (owned.count === 0) return { stored: false };
          const latest = await tx.summary.aggregate({ where: { transcriptId: summary.transcriptId }, _max: { revision: true } });
          const revision = (latest._max.revision ?? 0) + 1;
          // Redacted before it is stored (docs/design.md, "PII redaction"), by the call's setting.
          const call = await tx.call.findUniqueOrThrow({ where: { id: key.callId }, select: { redactPii: true, status: true, audioVersion: true } });
          const content = call.redactPii ? redactSummary(summary.content) : summary.content;
          const row = await tx.summary.create({
            data: { tenantId: key.tenantId, callId: key.callId, transcriptId: summary.transcriptId, revision, model: summary.model, content },
            select: { id: true },
          });
          await emit("callSummarized", { tenantId: key.tenantId, callId: key.callId, summaryId: row.id });
          // A re-run on a completed call: completion will not announce it again, so its lead is refreshed from here.
          if (call.status === "completed" && call.audioVersion === key.audioVersion) await emit("leadRequested", { tenantId: key.tenantId, callId: key.callId });
          return { stored: true, summaryId: row.id, revision };
        },
        relay,
      ),

    fail: (key, attempt, error) =>
      commitWithEvents(
        db,
        topology,
        async (tx, emit) => {
          const at = now();
          if (attempt !== undefined && !(await stillHoldsStageClaim(tx, { callId: key.callId, stage: "summary", audioVersion: key.audioVersion, attempt }))) return "lost_claim";
          const failed = await failCallAtStage(tx, emit, {
            callId: key.callId,
            audioVersion: key.audioVersion,
            stage: "summary",
            errorCode: error.code,
            errorMessage: error.message,
            now: at,
          });
          // A re-run of a completed call's summary failed: the call keeps its earlier summary and
          // stays completed, but the stage run still carries the error (invariant 4).
          if (failed.outcome === "stale" && failed.reason === "call completed") {
            await tx.stageRun.updateMany({
              where: { ...where(key), status: { not: "succeeded" } },
              data: { status: "failed", finishedAt: at, errorCode: error.code, errorMessage: error.message.slice(0, 2_000) },
            });
          }
          return failed.outcome;
        },
        relay,
      ),
  };
}
