import type { Segment, Transcription, Word } from "../port.ts";

/**
 * Reads `pocketsphinx_continuous -time yes` output: per utterance, a line with its text, then one
 * line per word `word start end confidence` (seconds from the start of the file), framed by `<s>` and
 * `</s>`. Fillers (`<sil>`, `[NOISE]`, `++…++`) are dropped and alternates (`tomorrow(2)`) unmarked.
 */

const WORD_LINE = /^(\S+)\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)$/;

const isFiller = (token: string): boolean => /^<.*>$/.test(token) || /^\[.*\]$/.test(token) || /^\+\+.*\+\+$/.test(token);

export function parsePocketsphinx(output: string): Transcription {
  const segments: Segment[] = [];
  let words: Word[] = [];
  const flush = () => {
    if (words.length > 0) {
      segments.push({ start: words[0]!.start, end: words.at(-1)!.end, text: words.map((w) => w.word).join(" "), words });
    }
    words = [];
  };
  for (const line of output.split("\n")) {
    const match = WORD_LINE.exec(line.trim());
    if (!match) continue;
    const [, token, start, end, confidence] = match as unknown as [string, string, string, string, string];
    if (token === "<s>") flush();
    if (token === "</s>") {
      flush();
      continue;
    }
    if (isFiller(token)) continue;
    words.push({ word: token.replace(/\(\d+\)$/, ""), start: Number(start), end: Number(end), confidence: Number(confidence) });
  }
  flush();
  return { text: segments.map((s) => s.text).join(" "), segments, language: "en" };
}
