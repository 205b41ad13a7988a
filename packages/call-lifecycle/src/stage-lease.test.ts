import type { Clock } from "@callflow/messaging";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { claimLease, claimWindow, keepLeaseAlive, leaseRemainingMs, type LeaseStore } from "./stage-lease.ts";

const at = new Date("2026-03-02T09:00:00Z");
const ago = (ms: number) => new Date(at.getTime() - ms);
const fixedClock: Clock = { now: () => at };

describe("a lease's expiry", () => {
  it("counts from the heartbeat: a fresh one keeps the row its worker's for the rest of staleAfterMs", () => {
    const window = claimWindow(fixedClock, 30_000);
    expect(window).toEqual({ now: at, staleBefore: ago(30_000) });
    expect(leaseRemainingMs(ago(10_000), window)).toBe(20_000);
    expect(leaseRemainingMs(at, window)).toBe(30_000);
  });

  it("leaves a row whose heartbeat is older than staleAfterMs, or that never beat, free to claim", () => {
    const window = claimWindow(fixedClock, 30_000);
    expect(leaseRemainingMs(ago(30_000), window)).toBe(0);
    expect(leaseRemainingMs(ago(3_600_000), window)).toBe(0);
    expect(leaseRemainingMs(null, window)).toBe(0);
  });
});

describe("claiming a lease", () => {
  const store = (claimed: number | null) => {
    const calls: unknown[][] = [];
    const leases: LeaseStore<string> = {
      claim: async (...args) => (calls.push(["claim", ...args]), claimed),
      heartbeat: async (...args) => (calls.push(["heartbeat", ...args]), true),
      release: async (...args) => void calls.push(["release", ...args]),
    };
    return { leases, calls };
  };

  it("holds the attempt the store's compare-and-set gave, and beats and hands back that attempt only", async () => {
    const { leases, calls } = store(3);
    const window = claimWindow(fixedClock, 30_000);
    const lease = await claimLease(leases, "stage-1", window);
    expect(lease?.attempt).toBe(3);
    await lease?.heartbeat(at);
    await lease?.release({ code: "merge_storage_unavailable", message: "connect ECONNREFUSED" });
    expect(calls).toEqual([
      ["claim", "stage-1", window],
      ["heartbeat", "stage-1", 3, at],
      ["release", "stage-1", 3, { code: "merge_storage_unavailable", message: "connect ECONNREFUSED" }],
    ]);
  });

  it("is nothing when the row was not free (another worker's fresh heartbeat, or settled)", async () => {
    expect(await claimLease(store(null).leases, "stage-1", claimWindow(fixedClock, 30_000))).toBeNull();
  });
});

describe("keeping a lease alive", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] }));
  afterEach(() => vi.useRealTimers());

  /** A delivery and a lease whose heartbeat answers what the test says, recording what they were asked. */
  const setUp = (answers: { heartbeat: () => Promise<boolean> }) => {
    const shutdown = new AbortController();
    const seen = { working: 0, beats: [] as Date[], failures: [] as unknown[], lost: 0 };
    let time = at.getTime();
    const clock: Clock = { now: () => new Date(time) };
    const lease = {
      attempt: 2,
      heartbeat: (now: Date) => {
        seen.beats.push(now);
        return answers.heartbeat();
      },
    };
    const alive = keepLeaseAlive(lease, {
      delivery: { working: () => void (seen.working += 1), signal: shutdown.signal },
      everyMs: 1_000,
      clock,
      what: "merge",
      onHeartbeatFailed: (error) => seen.failures.push(error),
      onLost: () => void (seen.lost += 1),
    });
    const advance = async (ms: number) => {
      time += ms;
      await vi.advanceTimersByTimeAsync(ms);
    };
    return { alive, seen, shutdown, advance };
  };

  it("extends the ack deadline and refreshes the heartbeat at every tick, at the clock's time", async () => {
    const { alive, seen, advance } = setUp({ heartbeat: async () => true });
    await advance(1_000);
    await advance(1_000);
    expect(seen.working).toBe(2);
    expect(seen.beats).toEqual([new Date(at.getTime() + 1_000), new Date(at.getTime() + 2_000)]);
    expect(alive.lost).toBe(false);
    expect(alive.signal.aborted).toBe(false);
    alive.stop();
  });

  it("aborts the work, saying the attempt was taken over, at the first heartbeat that finds the row no longer ours", async () => {
    let ours = true;
    const { alive, seen, advance } = setUp({ heartbeat: async () => ours });
    await advance(1_000);
    expect(alive.signal.aborted).toBe(false);
    ours = false;
    await advance(1_000);
    expect(alive.lost).toBe(true);
    expect(alive.signal.aborted).toBe(true);
    expect(String(alive.signal.reason)).toContain("merge attempt 2 was taken over by another worker");
    await advance(1_000);
    expect(seen.lost).toBe(1);
    alive.stop();
  });

  it("treats a heartbeat that failed as a miss to report and try again, not as a lost lease", async () => {
    let fail = true;
    const { alive, seen, advance } = setUp({ heartbeat: async () => (fail ? Promise.reject(new Error("connection refused")) : true) });
    await advance(1_000);
    expect(seen.failures).toEqual([new Error("connection refused")]);
    fail = false;
    await advance(1_000);
    expect(seen.beats).toHaveLength(2);
    expect(alive.lost).toBe(false);
    expect(alive.signal.aborted).toBe(false);
    alive.stop();
  });

  it("aborts with the delivery at shutdown, which is not a lost lease", async () => {
    const { alive, shutdown } = setUp({ heartbeat: async () => true });
    shutdown.abort(new Error("the process is shutting down"));
    expect(alive.signal.aborted).toBe(true);
    expect(alive.signal.reason).toEqual(new Error("the process is shutting down"));
    expect(alive.lost).toBe(false);
    alive.stop();
  });

  it("stops: no tick after stop, and a heartbeat still in flight then changes nothing", async () => {
    let answer!: (ours: boolean) => void;
    const { alive, seen, advance } = setUp({ heartbeat: () => new Promise<boolean>((resolve) => (answer = resolve)) });
    await advance(1_000);
    expect(seen.beats).toHaveLength(1);
    alive.stop();
    answer(false);
    await advance(5_000);
    expect(seen.beats).toHaveLength(1);
    expect(seen.working).toBe(1);
    expect(alive.lost).toBe(false);
    expect(alive.signal.aborted).toBe(false);
    expect(seen.lost).toBe(0);
  });
});
