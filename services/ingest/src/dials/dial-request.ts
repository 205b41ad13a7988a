import { parsePhoneNumberFromString } from "libphonenumber-js";
import { ApiError } from "../http/api-error.ts";

/**
 * A phone number as stored and compared: E.164 (`+14155552671`). Clients may send spaces, dashes or
 * brackets; a number without its country code is refused rather than guessed.
 */
export const e164Of = (raw: string, field: string): string => {
  const text = raw.trim();
  const parsed = text.startsWith("+") ? parsePhoneNumberFromString(text) : undefined;
  if (!parsed?.isValid()) {
    throw new ApiError(400, "invalid_number", `${field} is not a valid phone number in international form (E.164, e.g. +14155552671): "${raw}"`);
  }
  return parsed.number;
};

/** An IANA time zone, in its canonical spelling; the dialer reads the tenant's call window in it. */
export const timezoneOf = (raw: string): string => {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: raw }).resolvedOptions().timeZone;
  } catch {
    throw new ApiError(400, "invalid_timezone", `calleeTimezone is not an IANA time zone (e.g. America/New_York): "${raw}"`);
  }
};

/**
 * What makes two requests the same dial while one is active: the number and the campaign. Never the
 * provider's call id, which a retry of the same request would not have.
 */
export const dedupKeyOf = (toNumber: string, campaign: string | null): string => `${toNumber}|${campaign ?? ""}`;
