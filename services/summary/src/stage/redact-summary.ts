import { PII_LABELS, redactPii } from "@callflow/call-lifecycle/redact-pii";
import type { SummaryContent } from "../summarizers/summary-content.ts";

/**
 * A summary with PII redacted (the redactor is `@callflow/call-lifecycle`'s, shared with transcription),
 * applied by the summary stage before it stores a summary of a call whose `redact_pii` is set. Every
 * text is redacted; the two fields that exist to hold PII, `callerName` and `callbackNumber`, are
 * replaced by their label whenever they hold anything, so a name no rule knows cannot slip through
 * them. The transcript the summarizer read was already redacted; this covers what a summarizer (an
 * LLM) may add or rephrase.
 */
export function redactSummary(content: SummaryContent): SummaryContent {
  return {
    summary: redactPii(content.summary),
    keyPoints: content.keyPoints.map(redactPii),
    actionItems: content.actionItems.map(redactPii),
    sentiment: content.sentiment,
    fields: {
      callerName: content.fields.callerName === null ? null : PII_LABELS.person_name,
      intent: content.fields.intent === null ? null : redactPii(content.fields.intent),
      followUpDate: content.fields.followUpDate,
      callbackNumber: content.fields.callbackNumber === null ? null : PII_LABELS.phone_number,
    },
  };
}
