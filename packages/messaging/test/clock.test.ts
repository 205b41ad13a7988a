import { describe, expect, it } from "vitest";
import { systemClock } from "../src/index.ts";

describe("systemClock", () => {
  it("reads the wall clock at each call, never a time it kept", () => {
    const before = Date.now();
    const first = systemClock.now();
    const second = systemClock.now();
    expect(first.getTime()).toBeGreaterThanOrEqual(before);
    expect(second.getTime()).toBeLessThanOrEqual(Date.now());
    expect(second.getTime()).toBeGreaterThanOrEqual(first.getTime());
    expect(second).not.toBe(first);
  });
});
