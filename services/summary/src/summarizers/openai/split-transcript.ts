/**
 * Splits a transcript into parts that each fit one request, by an approximate token count
 * (≈ 4 characters a token, close enough for English and cheaper than shipping a tokenizer). Parts
 * break between segments (pauses), or sentences when there are no segments; a unit longer than a
 * whole part breaks between words.
 */

export const CHARS_PER_TOKEN = 4;

export const approximateTokens = (text: string): number => Math.ceil(text.length / CHARS_PER_TOKEN);

const splitWords = (unit: string, maxChars: number): string[] => {
  const pieces: string[] = [];
  let current = "";
  for (const word of unit.split(/\s+/).filter(Boolean)) {
    // A single "word" longer than a part (no spaces at all) is cut where it must be.
    for (let rest = word; rest.length > 0; rest = rest.slice(maxChars)) {
      const slice = rest.slice(0, maxChars);
      if (current && current.length + 1 + slice.length > maxChars) {
        pieces.push(current);
        current = slice;
      } else {
        current = current ? `${current} ${slice}` : slice;
      }
    }
  }
  if (current) pieces.push(current);
  return pieces;
};

/** `units` are the transcript's segments' texts (or sentences); resolves to parts of at most maxTokens each. */
export function splitTranscript(units: readonly string[], maxTokens: number): string[] {
  const maxChars = Math.max(1, maxTokens * CHARS_PER_TOKEN);
  const parts: string[] = [];
  let current = "";
  for (const raw of units) {
    const unit = raw.trim();
    if (!unit) continue;
    for (const piece of unit.length > maxChars ? splitWords(unit, maxChars) : [unit]) {
      if (current && current.length + 1 + piece.length > maxChars) {
        parts.push(current);
        current = piece;
      } else {
        current = current ? `${current}\n${piece}` : piece;
      }
    }
  }
  if (current) parts.push(current);
  return parts;
}
