import { describe, expect, it } from "vitest";
import { isWindowOpen, nextWindowOpening } from "./call-window.ts";

const nineToEight = { startMinute: 9 * 60, endMinute: 20 * 60 };

describe("a tenant's call window in the callee's time zone", () => {
  it("is open inside the local hours and closed outside", () => {
    const window = { ...nineToEight, timeZone: "America/New_York" };
    expect(isWindowOpen(new Date("2026-12-07T14:00:00Z"), window)).toBe(true); // 09:00 in New York
    expect(isWindowOpen(new Date("2026-12-07T13:59:00Z"), window)).toBe(false);
    expect(isWindowOpen(new Date("2026-12-08T01:00:00Z"), window)).toBe(false); // 20:00
  });

  it("opens next at the start minute, today before it and tomorrow after the end", () => {
    const window = { ...nineToEight, timeZone: "Europe/Berlin" };
    expect(nextWindowOpening(new Date("2026-12-07T05:00:00Z"), window)).toEqual(new Date("2026-12-07T08:00:00Z"));
    expect(nextWindowOpening(new Date("2026-12-07T21:00:00Z"), window)).toEqual(new Date("2026-12-08T08:00:00Z"));
    const inside = new Date("2026-12-07T10:00:00Z");
    expect(nextWindowOpening(inside, window)).toBe(inside);
  });

  it("keeps to local time across a daylight-saving change", () => {
    const window = { ...nineToEight, timeZone: "America/New_York" };
    // The night of 2026-03-08 New York moves from UTC-5 to UTC-4.
    expect(nextWindowOpening(new Date("2026-03-08T03:00:00Z"), window)).toEqual(new Date("2026-03-08T13:00:00Z"));
  });

  it("spans midnight when the end is before the start, and a whole day is always open", () => {
    const night = { startMinute: 22 * 60, endMinute: 6 * 60, timeZone: "UTC" };
    expect(isWindowOpen(new Date("2026-12-07T23:30:00Z"), night)).toBe(true);
    expect(isWindowOpen(new Date("2026-12-07T03:00:00Z"), night)).toBe(true);
    expect(nextWindowOpening(new Date("2026-12-07T12:00:00Z"), night)).toEqual(new Date("2026-12-07T22:00:00Z"));
    expect(isWindowOpen(new Date("2026-12-07T12:00:00Z"), { startMinute: 0, endMinute: 1440, timeZone: "UTC" })).toBe(true);
  });
});
