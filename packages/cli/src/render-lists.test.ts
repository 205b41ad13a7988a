import { describe, expect, it } from "vitest";
import { renderList } from "./render-lists.ts";

const now = new Date("2026-12-03T12:00:00Z");

describe("the list commands' tables", () => {
  it("show a stuck chunk with its stage, attempt, age and reason in aligned columns", () => {
    const table = renderList(
      "stuck",
      {
        items: [
          { stage: "transcription", entityType: "chunk", entityId: "c1", tenantId: "t", callId: "k1", status: "queued", attempt: 2, since: "2026-12-03T11:48:00Z", reason: "queued for 12 min with no worker" },
          { stage: "merge", entityType: "stage_run", entityId: "s2", tenantId: "t", callId: "k2", status: "running", attempt: null, since: "2026-12-03T11:59:30Z", reason: "no heartbeat" },
        ],
      },
      now,
    );
    const lines = table.split("\n");
    expect(lines[0]).toMatch(/^STAGE\s+ENTITY\s+CALL\s+STATUS\s+SINCE\s+REASON$/);
    expect(lines[1]).toMatch(/^transcription\s+chunk c1\s+k1\s+queued \(attempt 2\)\s+12 min ago\s+queued for 12 min with no worker$/);
    expect(lines[2]).toMatch(/^merge\s+stage_run s2\s+k2\s+running\s+30 s ago\s+no heartbeat$/);
    expect(lines[1]!.indexOf("chunk c1")).toBe(lines[2]!.indexOf("stage_run s2"));
  });

  it("say so when a list is empty, and clip long errors", () => {
    expect(renderList("dead-letters", { items: [] }, now)).toBe("No dead letters.");
    const table = renderList("calls", { items: [{ id: "k1", status: "failed", source: "upload", durationSeconds: 61.25, createdAt: "2026-12-01T12:00:00Z", failedStage: "merge", error: { code: "merge_failed", message: "x".repeat(200) } }] }, now);
    expect(table).toMatch(/k1\s+failed\s+upload\s+61\.3 s\s+2 d ago\s+merge: merge_failed: x+…$/m);
    expect(table.split("\n")[1]!.length).toBeLessThan(140);
  });
});

describe("the dials table", () => {
  it("shows each dial's number, status in words, priority, attempts of its budget, age and error", () => {
    const table = renderList(
      "dials",
      {
        items: [
          { id: "d1", to: "+14155550001", status: "in_progress", priority: "high", attempt: 1, maxAttempts: 3, createdAt: "2026-12-03T11:59:50Z", error: null },
          { id: "d2", to: "+14155550004", status: "failed", priority: "normal", attempt: 3, maxAttempts: 3, createdAt: "2026-12-03T11:00:00Z", error: { code: "provider_failed", message: "the carrier reported call CA1 failed" } },
        ],
        nextCursor: null,
      },
      now,
    );
    const lines = table.split("\n");
    expect(lines[0]).toMatch(/^DIAL\s+TO\s+STATUS\s+PRIORITY\s+ATTEMPTS\s+CREATED\s+ERROR$/);
    expect(lines[1]).toMatch(/^d1\s+\+14155550001\s+in progress\s+high\s+1\/3\s+10 s ago\s+—$/);
    expect(lines[2]).toMatch(/^d2\s+\+14155550004\s+failed\s+normal\s+3\/3\s+60 min ago\s+provider_failed: the carrier reported call CA1 failed$/);
    expect(renderList("dials", { items: [] }, now)).toBe("No dials yet.");
  });
});
