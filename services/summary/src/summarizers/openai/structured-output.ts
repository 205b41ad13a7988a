import type { ResponseFormatJSONSchema } from "openai/resources/shared";

/**
 * The JSON schema OpenAI's structured output is held to. Strict mode wants every property required
 * and no extra ones, so "unknown" is `null`, never a missing key. It mirrors `summaryContent`
 * (summary-content.ts), which still validates every answer: a server claiming to be OpenAI-compatible
 * may ignore `strict`.
 */
const nullableString = (description: string) => ({ type: ["string", "null"], description });

export const summaryResponseFormat: ResponseFormatJSONSchema = {
  type: "json_schema",
  json_schema: {
    name: "call_summary",
    strict: true,
    schema: {
      type: "object",
      additionalProperties: false,
      required: ["summary", "keyPoints", "actionItems", "sentiment", "fields"],
      properties: {
        summary: { type: "string", description: "Two to four sentences on what the call was about and how it ended." },
        keyPoints: { type: "array", items: { type: "string" }, description: "The main facts and decisions, one short sentence each." },
        actionItems: { type: "array", items: { type: "string" }, description: "Commitments made in the call: who does what, and when if said." },
        sentiment: { type: "string", enum: ["positive", "neutral", "negative", "mixed"], description: "The caller's overall sentiment." },
        fields: {
          type: "object",
          additionalProperties: false,
          required: ["callerName", "intent", "followUpDate", "callbackNumber"],
          properties: {
            callerName: nullableString("The caller's name as they gave it, or null."),
            intent: nullableString("Why the caller called, in a few words (e.g. 'billing question'), or null."),
            followUpDate: nullableString("An agreed follow-up date as YYYY-MM-DD, or null."),
            callbackNumber: nullableString("A phone number to call back on, digits as said, or null."),
          },
        },
      },
    },
  },
};
