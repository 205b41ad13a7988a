import type { Db } from "@callflow/db";
import { phaseOfCall } from "./queries.ts";
import { iso, type PhaseView } from "./views.ts";

/**
 * What a client watching a call sees change: the call's status, each stage run, the chunk counts.
 * The rows are the truth, so the progress stream diffs snapshots of them rather than trusting that
 * it heard every event.
 */
export interface CallSnapshot {
  call: { status: string; audioVersion: number; failedStage: string | null; errorCode: string | null; errorMessage: string | null };
  /** Sent with `call` and `phase` events; only `phase` is diffed, since an open phase's duration grows every poll. */
  phase: PhaseView;
  stages: Record<string, { stage: string; audioVersion: number; status: string; attempt: number; startedAt: string | null; finishedAt: string | null; errorCode: string | null; errorMessage: string | null }>;
  chunks: Record<string, number>;
}

export interface ProgressEvent {
  event: "call" | "phase" | "stage" | "chunks" | "end";
  data: unknown;
}

export const TERMINAL_CALL = new Set(["completed", "failed"]);

export const snapshotCall = async (db: Db, tenantId: string, callId: string): Promise<CallSnapshot | null> => {
  const call = await db.call.findFirst({
    where: { id: callId, tenantId },
    select: { status: true, audioVersion: true, failedStage: true, errorCode: true, errorMessage: true, createdAt: true, updatedAt: true, completedAt: true },
  });
  if (!call) return null;
  const { createdAt, updatedAt, completedAt, ...shown } = call;
  const [stages, chunks] = await Promise.all([
    db.stageRun.findMany({ where: { callId, tenantId }, orderBy: [{ audioVersion: "asc" }, { createdAt: "asc" }] }),
    db.chunk.groupBy({ by: ["status"], where: { callId, tenantId, audioVersion: call.audioVersion }, _count: { _all: true } }),
  ]);
  return {
    call: shown,
    phase: phaseOfCall({ status: call.status, audioVersion: call.audioVersion, createdAt, updatedAt, completedAt }, stages),
    stages: Object.fromEntries(
      stages.map((stage) => [
        `${stage.stage}@${stage.audioVersion}`,
        {
          stage: stage.stage,
          audioVersion: stage.audioVersion,
          status: stage.status,
          attempt: stage.attempt,
          startedAt: iso(stage.startedAt),
          finishedAt: iso(stage.finishedAt),
          errorCode: stage.errorCode,
          errorMessage: stage.errorMessage,
        },
      ]),
    ),
    chunks: Object.fromEntries(chunks.map((group) => [group.status, group._count._all])),
  };
};

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The events that take a watcher from `before` (nothing, at first) to `after`. */
export const progressEvents = (before: CallSnapshot | undefined, after: CallSnapshot): ProgressEvent[] => {
  const events: ProgressEvent[] = [];
  if (!before || !same(before.call, after.call)) events.push({ event: "call", data: { ...after.call, ...after.phase } });
  if (!before || before.phase.phase !== after.phase.phase) events.push({ event: "phase", data: after.phase });
  for (const [key, stage] of Object.entries(after.stages)) {
    if (!before || !same(before.stages[key], stage)) events.push({ event: "stage", data: stage });
  }
  if (!before || !same(before.chunks, after.chunks)) events.push({ event: "chunks", data: { byStatus: after.chunks } });
  return events;
};
