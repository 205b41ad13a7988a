import type { Db } from "@callflow/db";
import { redrivesSince } from "./actions.ts";
import { before, ledgerRedriveWindowMs, maxAttempts, redriveWindowFor, type ReapedStage, type ReaperPolicy } from "./policy.ts";

export interface AttemptOf {
  /** 1 for the first attempt, plus each re-drive the reaper counts against the budget now. */
  current: number;
  /** The attempts the budget allows before the reaper gives a terminal answer. */
  max: number;
}

/**
 * Which attempt each stage of a call's current audio version is on, counted exactly as the sweeps
 * count them (same audit rows, same windows), so what a client is told is what the reaper will do.
 * Transcription is its most re-driven chunk (or the ledger's re-drives, whichever is more).
 */
export const attemptsOfCall = async (
  db: Db,
  policy: ReaperPolicy,
  call: { id: string; audioVersion: number; durationSeconds: number | null },
  now: Date = new Date(),
): Promise<Record<ReapedStage, AttemptOf>> => {
  const [chunks, stageRuns] = await Promise.all([
    db.chunk.findMany({ where: { callId: call.id, audioVersion: call.audioVersion, status: { in: ["queued", "running", "failed"] } }, select: { id: true, durationSeconds: true } }),
    db.stageRun.findMany({ where: { callId: call.id, audioVersion: call.audioVersion, stage: { in: ["transcription", "merge", "summary"] } }, select: { id: true, stage: true } }),
  ]);
  const windowSince = (stage: ReapedStage, audioSeconds: number | null) => before(now, redriveWindowFor(policy, policy.stages[stage], audioSeconds));
  const runsOf = (stages: ReapedStage[]) =>
    stageRuns.flatMap((run) => (stages.includes(run.stage as ReapedStage) ? [{ id: run.id, callId: call.id, stage: run.stage as ReapedStage }] : []));
  const [chunkRedrives, stageRedrives, ledgerRedrives] = await Promise.all([
    redrivesSince(db, { entityType: "chunk", kind: "chunk.redrive", since: now, entities: chunks.map((c) => ({ id: c.id, callId: call.id, windowSince: windowSince("transcription", c.durationSeconds) })) }),
    redrivesSince(db, { entityType: "stage_run", kind: "stage.redrive", since: now, entities: runsOf(["merge", "summary"]).map((r) => ({ ...r, windowSince: windowSince(r.stage, call.durationSeconds) })) }),
    redrivesSince(db, { entityType: "stage_run", kind: "transcription.redrive", since: before(now, ledgerRedriveWindowMs(policy)), entities: runsOf(["transcription"]) }),
  ]);
  const max = maxAttempts(policy);
  const attempt = (redrives: number): AttemptOf => ({ current: Math.min(max, 1 + redrives), max });
  const most = (counts: Map<string, number>, ids: string[]) => Math.max(0, ...ids.map((id) => counts.get(id) ?? 0));
  const runIds = (stage: ReapedStage) => runsOf([stage]).map((r) => r.id);
  return {
    transcription: attempt(Math.max(most(chunkRedrives, chunks.map((c) => c.id)), most(ledgerRedrives, runIds("transcription")))),
    merge: attempt(most(stageRedrives, runIds("merge"))),
    summary: attempt(most(stageRedrives, runIds("summary"))),
  };
};
