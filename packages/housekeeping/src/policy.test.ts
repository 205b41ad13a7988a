import { describe, expect, it } from "vitest";
import { attemptSpanMs, DEFAULT_POLICY, ledgerRedriveWindowMs, maxAttempts, maxRunMs, redriveWindowFor, type ReapedStage } from "./policy.ts";

const MINUTE = 60_000;
/** The reaper's default CALLFLOW_REAPER_INTERVAL_MS: a deadline is seen at most this late. */
const SWEEP_INTERVAL_MS = 30_000;
const stages: ReapedStage[] = ["transcription", "merge", "summary"];
const minutes = (ms: number) => Math.round((ms / MINUTE) * 10) / 10;

/** The README's table (services/reaper/README.md), computed from the shipped defaults. */
const deadlineTable = () =>
  [1, 10, 60].flatMap((callMinutes) =>
    stages.map((stage) => {
      const d = DEFAULT_POLICY.stages[stage];
      return `${callMinutes} min ${stage}: run ${minutes(maxRunMs(d, callMinutes * 60))}, window ${minutes(redriveWindowFor(DEFAULT_POLICY, d, callMinutes * 60))}`;
    }),
  );

describe("the shipped default deadlines", () => {
  it("fail a row no worker ever claims within 10 minutes, sweep lateness included", () => {
    for (const stage of stages) {
      const worstCase = maxAttempts(DEFAULT_POLICY) * (DEFAULT_POLICY.stages[stage].queuedMs + SWEEP_INTERVAL_MS);
      expect(worstCase).toBeLessThanOrEqual(10 * MINUTE);
    }
    expect(maxAttempts(DEFAULT_POLICY)).toBe(3);
  });

  it("re-drive a row whose worker died mid-work within 2 minutes (workers beat every 10 s)", () => {
    for (const stage of stages) expect(DEFAULT_POLICY.stages[stage].heartbeatMs + SWEEP_INTERVAL_MS).toBeLessThanOrEqual(2 * MINUTE);
    for (const stage of stages) expect(DEFAULT_POLICY.stages[stage].heartbeatMs).toBeGreaterThanOrEqual(6 * 10_000);
  });

  it("give long audio a proportionally longer running deadline, up to the cap", () => {
    const t = DEFAULT_POLICY.stages.transcription;
    expect(maxRunMs(t, 2 * 60)).toBe(3 * MINUTE);
    expect(maxRunMs(t, 60 * 60)).toBe(32 * MINUTE);
    expect(maxRunMs(t, 60 * 60)).toBeGreaterThan(10 * maxRunMs(t, 60));
    expect(maxRunMs(t, 10 * 60 * 60)).toBe(t.maxRunCapMs);
  });

  it("count re-drives in a window that holds every attempt of the budget", () => {
    for (const stage of stages) {
      for (const audioSeconds of [60, 600, 3_600, 36_000]) {
        const d = DEFAULT_POLICY.stages[stage];
        const window = redriveWindowFor(DEFAULT_POLICY, d, audioSeconds);
        expect(window).toBeGreaterThanOrEqual(DEFAULT_POLICY.maxRedrives * (attemptSpanMs(d, audioSeconds) + SWEEP_INTERVAL_MS));
      }
    }
    expect(redriveWindowFor(DEFAULT_POLICY, DEFAULT_POLICY.stages.merge, 60)).toBe(DEFAULT_POLICY.redriveWindowMs);
  });

  it("fail a call whose transcription never settles within 10 minutes of its last chunk, its ledger re-drives all in one window", () => {
    expect(maxAttempts(DEFAULT_POLICY) * (DEFAULT_POLICY.unsettledMs + SWEEP_INTERVAL_MS)).toBeLessThanOrEqual(10 * MINUTE);
    expect(ledgerRedriveWindowMs(DEFAULT_POLICY)).toBeGreaterThanOrEqual(DEFAULT_POLICY.maxRedrives * (DEFAULT_POLICY.unsettledMs + SWEEP_INTERVAL_MS));
    // A longer settle deadline widens the window with it, so the budget still bounds the looks.
    const slow = { ...DEFAULT_POLICY, unsettledMs: 10 * MINUTE };
    expect(ledgerRedriveWindowMs(slow)).toBeGreaterThanOrEqual(slow.maxRedrives * (slow.unsettledMs + SWEEP_INTERVAL_MS));
  });

  it("match the README's table of deadlines for 1, 10 and 60-minute calls", () => {
    expect(deadlineTable()).toEqual([
      "1 min transcription: run 2.5, window 15",
      "1 min merge: run 2.1, window 15",
      "1 min summary: run 3.1, window 15",
      "10 min transcription: run 7, window 25.5",
      "10 min merge: run 3, window 15",
      "10 min summary: run 4, window 16.5",
      "60 min transcription: run 32, window 100.5",
      "60 min merge: run 8, window 28.5",
      "60 min summary: run 9, window 31.5",
    ]);
  });
});
