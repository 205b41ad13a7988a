import type { TranscriptInput } from "./port.ts";

/** A sentence mark followed by a space or the end: "It broke. Then" splits, "3.5" does not. */
const SENTENCE_END = /(?<=[.!?])\s+(?=\S)/;
const HAS_SENTENCE_MARKS = /[.!?](\s|$)/;

/**
 * The transcript as units of speech, in order. Punctuated text splits into sentences; text from a
 * recognizer without punctuation (pocketsphinx: lower case, no marks) splits at its segments, which
 * break at pauses. The text is authoritative: segments are used only when they carry it.
 */
export function transcriptUnits(transcript: Pick<TranscriptInput, "text" | "segments">): string[] {
  const text = transcript.text.trim();
  if (HAS_SENTENCE_MARKS.test(text)) return text.split(SENTENCE_END).map((unit) => unit.trim()).filter(Boolean);
  const segments = transcript.segments.map((segment) => segment.text.trim()).filter(Boolean);
  if (segments.length > 0) return segments;
  return text ? [text] : [];
}
