export interface ByteRange {
  /** First byte, zero-based. */
  start: number;
  /** Last byte, inclusive (as in HTTP `Range`). Absent means "to the end of the object". */
  end?: number;
}

/** The HTTP `Range` header value for a byte range; throws on a range no server could satisfy. */
export const formatRange = (range: ByteRange): string => {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`range start must be a non-negative integer, got ${start}`);
  }
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new RangeError(`range end must be an integer >= start (${start}), got ${end}`);
  }
  return `bytes=${start}-${end ?? ""}`;
};

export interface ServedRange {
  start: number;
  end: number;
  total: number | undefined;
}

/** `Content-Range: bytes 0-99/1000`; absent means the server sent the whole object. */
export const servedRange = (contentRange: string | undefined, contentLength: number): ServedRange | undefined => {
  if (contentRange === undefined) return { start: 0, end: contentLength - 1, total: contentLength };
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange);
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: match[3] === "*" ? undefined : Number(match[3]) };
};
