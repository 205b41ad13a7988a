import type { SummaryContent } from "./summary-content.ts";

/**
 * A call with no recognized speech (silence, music on hold) still gets a summary: saying so is the
 * truth, and failing the call for it would page someone over nothing. No provider is asked.
 */
export const EMPTY_TRANSCRIPT_SUMMARY: SummaryContent = Object.freeze({
  summary: "The call contains no recognized speech.",
  keyPoints: [],
  actionItems: [],
  sentiment: "neutral",
  fields: { callerName: null, intent: null, followUpDate: null, callbackNumber: null },
}) as SummaryContent;
