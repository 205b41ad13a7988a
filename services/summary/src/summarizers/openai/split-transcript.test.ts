import { describe, expect, it } from "vitest";
import { splitTranscript } from "./split-transcript.ts";

describe("splitting a transcript for requests", () => {
  it("keeps units whole and in order, each part within the budget", () => {
    const units = Array.from({ length: 30 }, (_, i) => `unit ${i} `.repeat(5).trim());
    const parts = splitTranscript(units, 50); // 200 characters a part
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(200);
    expect(parts.join("\n")).toBe(units.join("\n"));
  });

  it("breaks a unit longer than a part between words, losing none", () => {
    const long = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    const parts = splitTranscript([long], 25);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(100);
    expect(parts.join(" ")).toBe(long);
  });
});
