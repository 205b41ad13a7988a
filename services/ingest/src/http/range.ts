/** One byte range of a `Range: bytes=…` header, resolved against the object's size. */
export type RangeRequest = { start: number; end: number } | "unsatisfiable" | undefined;

/**
 * Parses a single-range header (`bytes=0-99`, `bytes=100-`, `bytes=-500`). Multiple ranges and
 * malformed headers are ignored (the whole object is served), as RFC 9110 allows.
 */
export const parseRange = (header: string | undefined, size: number): RangeRequest => {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
};
