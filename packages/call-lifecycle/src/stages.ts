import { Stage } from "@callflow/contracts";

/** The call-level stages that own a stage_runs row (docs/design.md invariant 2). */
export type CallStage = "transcription" | "merge" | "summary" | "completion";

export const stageEnum: Readonly<Record<CallStage, Stage>> = {
  transcription: Stage.TRANSCRIPTION,
  merge: Stage.MERGE,
  summary: Stage.SUMMARY,
  completion: Stage.COMPLETION,
};
