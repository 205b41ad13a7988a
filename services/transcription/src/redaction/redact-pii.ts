import { applyRedactions, findPii, PII_LABELS } from "@callflow/call-lifecycle/redact-pii";
import type { Segment } from "../speech-to-text/port.ts";

/**
 * A chunk's transcription with PII redacted (the redactor is `@callflow/call-lifecycle`'s, shared with
 * the summary), whatever provider produced it. The chunk repo applies it before storing the result of
 * a call whose `redact_pii` is set, on the worker's path and on the webhook's alike.
 *
 * Segments are redacted as one text, so a number or name a recogniser split over two segments is still
 * found: the label goes in the segment where the span starts, the rest of the span is cut from the
 * segments after it. A segment that changed loses its word timings: a word list would leak the words.
 */
export function redactTranscription<T extends { text: string; segments: Segment[] }>(transcription: T): T {
  const text = applyRedactions(transcription.text, findPii(transcription.text));
  const segments = transcription.segments;
  if (segments.length === 0) return { ...transcription, text };

  const starts: number[] = [];
  let joined = "";
  for (const [i, segment] of segments.entries()) {
    if (i > 0) joined += " ";
    starts.push(joined.length);
    joined += segment.text;
  }
  const spans = findPii(joined);
  if (spans.length === 0) return { ...transcription, text };

  const redacted = segments.map((segment, i) => {
    const from = starts[i]!;
    const to = from + segment.text.length;
    const inside = spans.filter((span) => span.start < to && span.end > from);
    if (inside.length === 0) return segment;
    let out = "";
    let at = from;
    for (const span of inside) {
      const start = Math.max(span.start, from);
      out += joined.slice(at, start);
      // The label where the span begins; a span's continuation into this segment is cut.
      if (span.start >= from) out += PII_LABELS[span.kind];
      at = Math.min(span.end, to);
    }
    out += joined.slice(at, to);
    return { start: segment.start, end: segment.end, text: out.replace(/\s{2,}/g, " ").trim() };
  });
  return { ...transcription, text, segments: redacted };
}
