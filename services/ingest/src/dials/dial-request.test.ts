import { describe, expect, it } from "vitest";
import { dedupKeyOf, e164Of, timezoneOf } from "./dial-request.ts";

describe("e164Of", () => {
  it("normalises a number written with spaces, dashes and brackets to E.164", () => {
    expect(e164Of(" +1 (415) 555-2671 ", "to")).toBe("+14155552671");
    expect(e164Of("+44 7911 123456", "to")).toBe("+447911123456");
  });
  it("refuses a number without its country code, too short, or not a number, as invalid_number naming the field", () => {
    for (const raw of ["4155552671", "+15550100", "+1 555", "call me", ""]) {
      expect(() => e164Of(raw, "from")).toThrow(expect.objectContaining({ statusCode: 400, code: "invalid_number", message: expect.stringContaining("from") }));
    }
  });
});

describe("timezoneOf", () => {
  it("accepts an IANA zone in its canonical spelling and refuses anything else", () => {
    expect(timezoneOf("Europe/Paris")).toBe("Europe/Paris");
    expect(timezoneOf("america/new_york")).toBe("America/New_York");
    expect(() => timezoneOf("Mars/Olympus_Mons")).toThrow(expect.objectContaining({ statusCode: 400, code: "invalid_timezone" }));
  });
});

describe("dedupKeyOf", () => {
  it("tells campaigns apart and treats no campaign as its own", () => {
    expect(new Set([dedupKeyOf("+14155552671", null), dedupKeyOf("+14155552671", "spring"), dedupKeyOf("+14155552671", "autumn")]).size).toBe(3);
    expect(dedupKeyOf("+14155552671", "spring")).toBe(dedupKeyOf("+14155552671", "spring"));
  });
});
