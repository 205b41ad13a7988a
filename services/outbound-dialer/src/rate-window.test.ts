import { describe, expect, test } from "vitest";
import { busiestWindow, SlidingRate } from "./rate-window.ts";

describe("SlidingRate", () => {
  test("counts the events in (now − window, now] per second", () => {
    const rate = new SlidingRate(10_000);
    expect(rate.perSecond(0)).toBe(0);
    for (let i = 0; i < 50; i++) rate.record(1_000 + i * 200); // 5/s from 1 s to 10.8 s
    expect(rate.perSecond(10_800)).toBe(5);
    // 11 s: the event at exactly 1 s has left the window (its edge is open).
    expect(rate.perSecond(11_000)).toBe(4.9);
    expect(rate.perSecond(20_800)).toBe(0);
  });

  test("keeps only what is still in the window (instants come from one clock, in order)", () => {
    const rate = new SlidingRate(1_000);
    rate.record(500);
    rate.record(1_400);
    expect(rate.perSecond(1_400)).toBe(2);
    rate.record(1_500);
    expect(rate.perSecond(1_500)).toBe(2);
  });

  test("refuses a window that is not positive", () => {
    expect(() => new SlidingRate(0)).toThrow(RangeError);
  });
});

describe("busiestWindow", () => {
  test("the most events in any half-open second", () => {
    expect(busiestWindow([])).toBe(0);
    expect(busiestWindow([0, 200, 400, 600, 800, 1_000])).toBe(5);
    expect(busiestWindow([0, 200, 400, 600, 800, 999])).toBe(6);
    expect(busiestWindow([3_000, 0, 2_100, 2_500, 2_999])).toBe(4);
    expect(busiestWindow([0, 50, 100], 100)).toBe(2);
  });
});
