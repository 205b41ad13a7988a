import type { Db } from "@callflow/db";
import { attemptsOfCall, DEFAULT_POLICY, maxAttempts, type ReaperPolicy } from "@callflow/housekeeping";
import type { ArtifactFacts, ArtifactKind } from "./artifact-answer.ts";
import { chunkProgress, findCall } from "./queries.ts";

const settledAttempts = (policy: ReaperPolicy): ArtifactFacts["attempts"] => {
  const unused = { current: 1, max: maxAttempts(policy) };
  return { transcription: unused, merge: unused, summary: unused };
};

/** Loads what answerForArtifact decides on, plus the artifact itself when it is there. */
export const loadArtifact = async (db: Db, tenantId: string, callId: string, kind: ArtifactKind, policy: ReaperPolicy = DEFAULT_POLICY) => {
  const call = await findCall(db, tenantId, callId);
  const version = call.audioVersion;
  const [stages, chunks, attempts, transcript, summary, recording] = await Promise.all([
    db.stageRun.findMany({ where: { callId, tenantId, audioVersion: version }, select: { stage: true, status: true, errorCode: true, errorMessage: true } }),
    chunkProgress(db, tenantId, call),
    // Only a call still at work can answer 202; a settled one is not worth the audit log's queries.
    call.status === "uploading" || call.status === "processing" ? attemptsOfCall(db, policy, call) : settledAttempts(policy),
    kind === "transcript" ? db.transcript.findFirst({ where: { callId, tenantId, audioVersion: version } }) : null,
    kind === "summary"
      ? db.summary.findFirst({ where: { callId, tenantId, transcript: { audioVersion: version } }, orderBy: { revision: "desc" } })
      : null,
    kind === "recording"
      ? db.mergedRecording.findFirst({ where: { callId, tenantId, audioVersion: version, verifiedAt: { not: null } } })
      : null,
  ]);
  const terminal = (chunks.byStatus.transcribed ?? 0) + (chunks.byStatus.failed ?? 0);
  const facts: ArtifactFacts = {
    kind,
    call,
    ready: Boolean(transcript ?? summary ?? recording),
    stages: Object.fromEntries(stages.map((stage) => [stage.stage, stage])) as ArtifactFacts["stages"],
    chunks: { expected: chunks.expected, received: chunks.received, terminal, pendingSeconds: chunks.pendingSeconds },
    attempts,
  };
  return { call, facts, transcript, summary, recording };
};
