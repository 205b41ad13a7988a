import type { Segment, Transcription } from "./speech-to-text/port.ts";

const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;

/** Times relative to the chunk → times relative to the call (the chunk's start added). */
export function offsetTranscription(transcription: Transcription, offsetSeconds: number): { text: string; segments: Segment[] } {
  const shift = (t: number) => round(t + offsetSeconds);
  return {
    text: transcription.text,
    segments: transcription.segments.map((segment) => ({
      start: shift(segment.start),
      end: shift(segment.end),
      text: segment.text,
      ...(segment.words ? { words: segment.words.map((word) => ({ ...word, start: shift(word.start), end: shift(word.end) })) } : {}),
    })),
  };
}
