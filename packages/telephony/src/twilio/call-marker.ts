import type { CallMarker } from "../port.ts";

/**
 * The marker travels in the callback URLs' query, `?dial=<id>&attempt=<n>`: Twilio posts to those
 * URLs exactly as given (and signs them so), lists them among a call's events, and ingest sees them
 * on every callback.
 */
export const withMarker = (url: string, marker: CallMarker): string => {
  const target = new URL(url);
  target.searchParams.set("dial", marker.dialId);
  target.searchParams.set("attempt", String(marker.attempt));
  return target.href;
};

/** The marker a callback URL carries, if any. */
export const markerFromUrl = (url: string | undefined): CallMarker | undefined => {
  if (!url) return undefined;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  const dialId = target.searchParams.get("dial");
  const attempt = Number(target.searchParams.get("attempt"));
  return dialId && Number.isSafeInteger(attempt) && attempt >= 0 ? { dialId, attempt } : undefined;
};

export const sameMarker = (a: CallMarker, b: CallMarker): boolean => a.dialId === b.dialId && a.attempt === b.attempt;
