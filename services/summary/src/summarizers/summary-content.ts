import { z } from "zod";

/**
 * The one shape a stored summary has, whoever made it. Every summarizer's output passes through
 * `summaryContent.parse` before it is stored: unvalidated output never reaches the database.
 */
export const summaryContent = z
  .object({
    summary: z.string().min(1),
    keyPoints: z.array(z.string().min(1)),
    actionItems: z.array(z.string().min(1)),
    sentiment: z.enum(["positive", "neutral", "negative", "mixed"]),
    fields: z
      .object({
        callerName: z.string().min(1).nullable(),
        intent: z.string().min(1).nullable(),
        followUpDate: z.iso.date().nullable(),
        callbackNumber: z.string().min(1).nullable(),
      })
      .strict(),
  })
  .strict();

export type SummaryContent = z.infer<typeof summaryContent>;
export type Sentiment = SummaryContent["sentiment"];
