/**
 * The call's transcript from its transcribed chunks, in call order. Chunk segments are stored with
 * times relative to the call (the transcription worker applies the chunk's start offset), so they
 * concatenate as they are; a segment without usable times is placed at its chunk's start.
 */

export interface TranscriptSegment {
  start: number;
  end: number;
  text: string;
  /** The chunk index the client knows (a split part reports its original's). */
  chunkIndex: number;
  words?: { word: string; start: number; end: number; confidence?: number }[];
}

export interface TranscribedChunk {
  index: number;
  startOffsetSeconds: number;
  text: string | null;
  segments: unknown;
}

export interface AssembledTranscript {
  text: string;
  segments: TranscriptSegment[];
}

const isFiniteNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

const readSegments = (chunk: TranscribedChunk, chunkIndex: number): TranscriptSegment[] => {
  if (!Array.isArray(chunk.segments)) return [];
  const segments: TranscriptSegment[] = [];
  for (const raw of chunk.segments as unknown[]) {
    if (typeof raw !== "object" || raw === null) continue;
    const value = raw as Record<string, unknown>;
    const text = typeof value.text === "string" ? value.text : "";
    const start = isFiniteNumber(value.start) ? value.start : chunk.startOffsetSeconds;
    const end = isFiniteNumber(value.end) && value.end >= start ? value.end : start;
    const segment: TranscriptSegment = { start, end, text, chunkIndex };
    if (Array.isArray(value.words)) segment.words = value.words as TranscriptSegment["words"];
    segments.push(segment);
  }
  return segments;
};

/** `chunks` in call order, each with the index to report (`reportIndex`). */
export function assembleTranscript(chunks: readonly (TranscribedChunk & { reportIndex: number })[]): AssembledTranscript {
  const texts: string[] = [];
  const segments: TranscriptSegment[] = [];
  for (const chunk of chunks) {
    const text = (chunk.text ?? "").trim();
    if (text) texts.push(text);
    segments.push(...readSegments(chunk, chunk.reportIndex));
  }
  return { text: texts.join(" "), segments };
}
