import { describe, expect, it } from "vitest";
import { describeDialEvent, exitCodeOf, renderDialSummary, type Dial } from "./follow-dial.ts";

const dial = (over: Partial<Dial>): Dial => ({
  id: "d1",
  status: "completed",
  to: "+14155550001",
  attempt: 1,
  maxAttempts: 3,
  providerCallId: "CA1",
  leadId: null,
  callId: null,
  error: null,
  timeline: [],
  ...over,
});

describe("following a dial", () => {
  it("says a failed attempt's status, attempt number, error code and message on one line", () => {
    expect(describeDialEvent({ status: "no_answer", attempt: 1, at: "2026-12-03T12:00:05.120Z", errorCode: null, detail: "callback: CA1" })).toBe("  12:00:05  no answer");
    expect(describeDialEvent({ status: "failed", attempt: 2, at: "2026-12-03T12:01:00Z", errorCode: "telephony_rejected", detail: "no permission for the destination" })).toBe(
      "  12:01:00  failed (attempt 2) — telephony_rejected: no permission for the destination",
    );
  });

  it("summarizes the provider call, attempts and the duration the carrier reported", () => {
    const summary = renderDialSummary(dial({ timeline: [{ status: "completed", attempt: 1, at: "2026-12-03T12:00:00Z", errorCode: null, detail: "callback: CA1, 19 s" }] }));
    expect(summary).toMatch(/^Dial d1 to \+14155550001: completed$/m);
    expect(summary).toMatch(/provider call\s+CA1/);
    expect(summary).toMatch(/attempts\s+1 of 3/);
    expect(summary).toMatch(/duration\s+19 s/);
  });

  it("exits 0 for an ending the carrier reported and 1 for failed, canceled or still under way", () => {
    expect(["completed", "busy", "no_answer", "failed", "canceled", "ringing"].map((status) => exitCodeOf(dial({ status })))).toEqual([0, 0, 0, 1, 1, 1]);
  });
});
