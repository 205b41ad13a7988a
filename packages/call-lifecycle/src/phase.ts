/**
 * Where a call is, in the words a customer uses: derived from the call's status and its stage rows
 * (no column of its own, so it can never disagree with them). Pure: the status view, the list, the
 * progress stream and the customer webhook all ask it.
 *
 *   uploading → uploaded → transcribing → summarizing → merging → completed | failed
 *
 * Merge and summary run side by side once the transcript exists; the phase is `summarizing` while
 * the summary is open (it is the slower one) and `merging` while only the merge is.
 */

export type CallPhase = "uploading" | "uploaded" | "transcribing" | "summarizing" | "merging" | "completed" | "failed";
export type OpenPhase = Exclude<CallPhase, "completed" | "failed">;

export interface PhaseCallFacts {
  status: "uploading" | "processing" | "completed" | "failed";
  audioVersion: number;
  createdAt: Date;
  /** When a terminal call became terminal; open phases of a terminal call end here. */
  settledAt: Date | null;
}

export interface PhaseStageFacts {
  stage: string;
  audioVersion: number;
  status: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface PhaseTime {
  phase: OpenPhase;
  startedAt: Date;
  /** Null while the call is still in this phase. */
  finishedAt: Date | null;
  durationMs: number;
}

export interface CallPhaseView {
  phase: CallPhase;
  /** The phases the current audio version went through, in order, with the time spent in each. */
  phases: PhaseTime[];
}

const SETTLED = new Set(["succeeded", "failed"]);

const earliest = (...dates: (Date | null | undefined)[]): Date | null =>
  dates.reduce<Date | null>((min, date) => (date && (!min || date < min) ? date : min), null);

export const callPhase = (call: PhaseCallFacts, stageRows: readonly PhaseStageFacts[], now: Date): CallPhaseView => {
  const current = new Map(stageRows.filter((row) => row.audioVersion === call.audioVersion).map((row) => [row.stage, row]));
  const transcription = current.get("transcription");
  const summary = current.get("summary");
  const merge = current.get("merge");
  const terminal = call.status === "completed" || call.status === "failed";
  // An open phase of a settled call ends when the call did (a stage the failure overtook).
  const end = terminal ? (call.settledAt ?? now) : now;

  const phases: PhaseTime[] = [];
  const add = (phase: OpenPhase, startedAt: Date | null | undefined, finishedAt: Date | null) => {
    if (!startedAt) return;
    const until = finishedAt ?? (terminal ? end : null);
    phases.push({ phase, startedAt, finishedAt: until, durationMs: Math.max(0, (until ?? now).getTime() - startedAt.getTime()) });
  };
  // Uploading is the first audio version's alone: a re-processed call's audio was there already.
  if (call.status === "uploading") add("uploading", call.createdAt, null);
  else if (call.audioVersion === 1 && transcription) add("uploading", call.createdAt, transcription.createdAt);
  if (transcription) {
    add("uploaded", transcription.createdAt, earliest(transcription.startedAt, transcription.finishedAt));
    add("transcribing", transcription.startedAt, transcription.finishedAt);
  }
  add("summarizing", summary?.createdAt, summary?.finishedAt ?? null);
  add("merging", merge?.createdAt, merge?.finishedAt ?? null);

  return { phase: phaseOf(call, transcription, summary, merge), phases };
};

const phaseOf = (call: PhaseCallFacts, transcription?: PhaseStageFacts, summary?: PhaseStageFacts, merge?: PhaseStageFacts): CallPhase => {
  if (call.status === "completed" || call.status === "failed") return call.status;
  if (call.status === "uploading") return "uploading";
  if (!transcription || (transcription.status === "queued" && !transcription.startedAt)) return "uploaded";
  if (transcription.status !== "succeeded") return "transcribing";
  if (!summary || !SETTLED.has(summary.status)) return "summarizing";
  if (!merge || !SETTLED.has(merge.status)) return "merging";
  // Both settled, the completion not yet written: the last step is still the one that finished last.
  return (merge.finishedAt ?? 0) >= (summary.finishedAt ?? 0) ? "merging" : "summarizing";
};
