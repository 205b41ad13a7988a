import type { Summarizer, TranscriptInput } from "../port.ts";
import { summaryContent, type Sentiment, type SummaryContent } from "../summary-content.ts";
import { transcriptUnits } from "../transcript-units.ts";
import { extractFields } from "./extract-fields.ts";
import { COMMITMENT, NEGATIONS, NEGATIVE, POSITIVE, STOPWORDS } from "./lexicon.ts";

/**
 * The embedded default: no network, no model, and deterministic (the same transcript and call date
 * give the same output, byte for byte). Sentences are scored by the frequency of their content words
 * across the call; the best make the summary and key points, in call order.
 */

export const EXTRACTIVE_MODEL = "extractive-v1";

const SUMMARY_SENTENCES = 3;
const KEY_POINTS = 5;
const ACTION_ITEMS = 8;
/** A run-on transcript without marks or segments is read in windows of this many words. */
const WINDOW_WORDS = 25;
/** "yes", "okay thanks": too short to say anything about the call. */
const MIN_INFORMATIVE_WORDS = 4;

/** "Agent: …" — a diarized transcript's speaker label says who, not what: it is not scored. */
const SPEAKER_LABEL = /^\s*[A-Za-z][\w .-]{0,30}:\s+/;
const words = (unit: string): string[] => unit.replace(SPEAKER_LABEL, "").toLowerCase().replace(/’/g, "'").match(/[a-z0-9']+/g) ?? [];
const contentWords = (unit: string): string[] => words(unit).map((word) => word.replace(/'/g, "")).filter((word) => word.length > 2 && !STOPWORDS.has(word));

/** Units of speech, with a run-on text broken into windows. */
const speechUnits = (transcript: TranscriptInput): string[] =>
  transcriptUnits(transcript).flatMap((unit) => {
    const all = unit.split(/\s+/).filter(Boolean);
    if (all.length <= WINDOW_WORDS * 2) return [unit];
    const windows: string[] = [];
    for (let i = 0; i < all.length; i += WINDOW_WORDS) windows.push(all.slice(i, i + WINDOW_WORDS).join(" "));
    return windows;
  });

/** A unit as a sentence: capital first letter, a closing mark (recognizer text has neither). */
const asSentence = (unit: string): string => {
  const trimmed = unit.trim().replace(/\s+/g, " ");
  const capitalized = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalized) ? capitalized : `${capitalized}.`;
};

const rankUnits = (units: readonly string[]): number[] => {
  const frequency = new Map<string, number>();
  for (const unit of units) for (const word of contentWords(unit)) frequency.set(word, (frequency.get(word) ?? 0) + 1);
  const scored = units.map((unit, index) => {
    const content = contentWords(unit);
    const informative = words(unit).length >= MIN_INFORMATIVE_WORDS && content.length > 0;
    const sum = content.reduce((total, word) => total + (frequency.get(word) ?? 0), 0);
    // Divided by √length: long sentences score higher than short ones, but not in proportion.
    return { index, score: informative ? sum / Math.sqrt(content.length) : -1 };
  });
  // Ties go to the earlier sentence, so the order never depends on the sort's stability.
  return scored
    .filter((entry) => entry.score >= 0)
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map((entry) => entry.index);
};

const sentimentOf = (units: readonly string[]): Sentiment => {
  let positive = 0;
  let negative = 0;
  for (const unit of units) {
    const tokens = words(unit);
    tokens.forEach((token, i) => {
      const negated = NEGATIONS.has(tokens[i - 1] ?? "") || NEGATIONS.has(tokens[i - 2] ?? "");
      const word = token.replace(/'/g, "");
      if (POSITIVE.has(word)) negated ? negative++ : positive++;
      else if (NEGATIVE.has(word)) negated ? positive++ : negative++;
    });
  }
  if (positive === 0 && negative === 0) return "neutral";
  if (positive > 0 && negative > 0 && Math.min(positive, negative) / Math.max(positive, negative) >= 0.5) return "mixed";
  return positive > negative ? "positive" : "negative";
};

export function summarizeExtractively(transcript: TranscriptInput): SummaryContent {
  const units = speechUnits(transcript);
  const ranked = rankUnits(units);
  const inCallOrder = (indexes: number[]) => [...indexes].sort((a, b) => a - b).map((index) => asSentence(units[index]!));
  const best = ranked.length > 0 ? ranked : units.map((_, index) => index);
  const summary = inCallOrder(best.slice(0, SUMMARY_SENTENCES)).join(" ");
  const keyPoints = inCallOrder(best.slice(0, KEY_POINTS));
  const actionItems = [...new Set(units.filter((unit) => COMMITMENT.test(unit.toLowerCase())).map(asSentence))].slice(0, ACTION_ITEMS);
  return summaryContent.parse({
    summary: summary || asSentence(transcript.text),
    keyPoints,
    actionItems,
    sentiment: sentimentOf(units),
    fields: extractFields(transcript.text, units, transcript.referenceDate),
  });
}

export const createExtractiveSummarizer = (): Summarizer => ({
  model: EXTRACTIVE_MODEL,
  summarize: async (transcript) => summarizeExtractively(transcript),
});
