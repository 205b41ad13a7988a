import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { SummaryContent } from "../summary-content.ts";

const isoDate = (date: Date): string => date.toISOString().slice(0, 10);

const INSTRUCTIONS = [
  "You summarize recorded phone calls for a call-processing system.",
  "Answer only with JSON matching the given schema. Use null for a field the call does not state; never guess.",
  "Transcripts come from speech recognition and may lack punctuation and capitals; keep names and numbers as spoken.",
];

/** One request over (a part of) the transcript. Transcript text goes in the user message, never the system one. */
export const partMessages = (input: { text: string; referenceDate: Date; part: number; parts: number }): ChatCompletionMessageParam[] => [
  {
    role: "system",
    content: [
      ...INSTRUCTIONS,
      `The call took place on ${isoDate(input.referenceDate)}; resolve relative dates ("next tuesday") against it.`,
      input.parts > 1 ? `This is part ${input.part} of ${input.parts} of the transcript: summarize this part only.` : "",
    ]
      .filter(Boolean)
      .join("\n"),
  },
  { role: "user", content: input.text },
];

/** The reduce step: partial results (in call order) into one summary of the same shape. */
export const combineMessages = (input: { partials: readonly SummaryContent[]; referenceDate: Date }): ChatCompletionMessageParam[] => [
  {
    role: "system",
    content: [
      ...INSTRUCTIONS,
      `The call took place on ${isoDate(input.referenceDate)}.`,
      "You are given summaries of consecutive parts of one call, in order, as a JSON array.",
      "Combine them into one summary of the whole call: merge duplicate points and action items, and prefer later parts where they disagree.",
    ].join("\n"),
  },
  { role: "user", content: JSON.stringify(input.partials) },
];
