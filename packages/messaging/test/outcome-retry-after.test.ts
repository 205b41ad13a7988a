import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../src/index.ts";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");

  it("reads a delay in seconds, fractions included, as milliseconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 1.5 ", now)).toBe(1_500);
    expect(parseRetryAfter("0", now)).toBe(0);
  });

  it("reads an HTTP date as the time left until it, and a date already past as no wait", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 11:59:00 GMT", now)).toBe(0);
  });

  it("answers undefined for a header that is absent, empty or unreadable", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});
