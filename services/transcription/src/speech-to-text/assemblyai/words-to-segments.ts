import type { Segment, Word } from "../port.ts";

/**
 * AssemblyAI reports words (milliseconds); segments are cut at sentence ends, at pauses, and at a
 * bounded length, so a transcript reads in lines and a long monologue still has timestamps.
 */
export function wordsToSegments(words: readonly { text: string; start: number; end: number; confidence?: number }[], maxWords = 40, pauseMs = 800): Segment[] {
  const segments: Segment[] = [];
  let current: Word[] = [];
  const flush = () => {
    if (current.length === 0) return;
    segments.push({ start: current[0]!.start, end: current.at(-1)!.end, text: current.map((w) => w.word).join(" "), words: current });
    current = [];
  };
  let previousEnd: number | undefined;
  for (const word of words) {
    if (previousEnd !== undefined && word.start - previousEnd >= pauseMs) flush();
    current.push({ word: word.text, start: word.start / 1000, end: word.end / 1000, ...(word.confidence === undefined ? {} : { confidence: word.confidence }) });
    previousEnd = word.end;
    if (/[.?!]$/.test(word.text) || current.length >= maxWords) flush();
  }
  flush();
  return segments;
}
