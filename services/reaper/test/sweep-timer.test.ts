import { Registry } from "prom-client";
import { reaperMetrics, type SweepResult } from "@callflow/housekeeping";
import { createLogger } from "@callflow/telemetry";
import { test as infra, waitFor } from "@callflow/testkit";
import { describe, expect, it } from "vitest";
import { reaperConfigFromEnv, start, startSweepTimer, type Timers } from "../src/index.ts";
import { reaperEnv } from "./support.ts";

/** A timer that fires only when the test says time has passed. */
class ManualTimers implements Timers {
  now = 0;
  private next = 1;
  readonly pending = new Map<number, { at: number; delay: number; run: () => void }>();
  setTimeout = (run: () => void, ms: number): number => {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, delay: ms, run });
    return id;
  };
  clearTimeout = (handle: unknown): void => void this.pending.delete(handle as number);
  /** The delays of the timeouts waiting to fire. */
  delays = (): number[] => [...this.pending.values()].map((timeout) => timeout.delay);
  /** Moves the clock on by `ms`, firing what falls due in order and letting each sweep's promise settle. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      await settle();
      const due = [...this.pending.entries()].filter(([, timeout]) => timeout.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].run();
    }
    this.now = until;
    await settle();
  }
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

const result = (errors: SweepResult["errors"] = []): SweepResult => ({ sweepId: "s", dryRun: false, skipped: false, startedAt: new Date(0), durationMs: 1, actions: [], errors });

/** The shipped interval: the configuration with no CALLFLOW_REAPER_* variable set. */
const SHIPPED_INTERVAL_MS = reaperConfigFromEnv({}).intervalMs;

const timerUnderTest = (sweep: () => Promise<SweepResult>) => {
  const timers = new ManualTimers();
  const registry = new Registry();
  const metrics = reaperMetrics(registry);
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ service: "reaper", destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  const failures = async () => (await metrics.sweepFailures.get()).values[0]?.value ?? 0;
  const timer = startSweepTimer({ intervalMs: SHIPPED_INTERVAL_MS, sweep, failures: metrics.sweepFailures, logger, timers });
  return { timers, timer, lines, failures };
};

describe("the reaper's timer with its shipped interval (an injected timer)", () => {
  it("ships a 30 s interval", () => {
    expect(SHIPPED_INTERVAL_MS).toBe(30_000);
  });

  it("sweeps once at start, then 30 s after each sweep ends, never two at once", async () => {
    let sweeps = 0;
    let release: (() => void) | undefined;
    const { timers, timer } = timerUnderTest(async () => {
      sweeps += 1;
      if (sweeps === 3) await new Promise<void>((resolve) => (release = resolve));
      return result();
    });
    expect(sweeps).toBe(1); // at start, before any time passes
    await timers.advance(29_999);
    expect(sweeps).toBe(1);
    await timers.advance(1);
    expect(sweeps).toBe(2);
    await timers.advance(30_000);
    expect(sweeps).toBe(3);
    // The third sweep is slow: however long it takes, no fourth starts beside it.
    await timers.advance(5 * 60_000);
    expect(sweeps).toBe(3);
    expect(timers.delays()).toEqual([]);
    release!();
    await timers.advance(0);
    expect(timers.delays()).toEqual([30_000]);
    await timers.advance(30_000);
    expect(sweeps).toBe(4);
    await timer.stop();
  });

  it("a sweep that throws is logged and counted, and the next interval sweeps again; one that reports errors is counted", async () => {
    const outcomes: (() => Promise<SweepResult>)[] = [
      () => Promise.reject(new Error("Connection terminated unexpectedly")),
      () => Promise.resolve(result([{ sweep: "overdue-chunks", error: "canceling statement due to statement timeout" }])),
      () => Promise.resolve(result()),
    ];
    let sweeps = 0;
    const { timers, timer, lines, failures } = timerUnderTest(() => outcomes[Math.min(sweeps++, outcomes.length - 1)]!());

    await timers.advance(0);
    expect(sweeps).toBe(1);
    expect(await failures()).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({ level: "error", msg: "reaper sweep failed; trying again at the next interval", err: expect.objectContaining({ message: "Connection terminated unexpectedly" }) }),
    ]);
    expect(timers.delays()).toEqual([30_000]);

    await timers.advance(30_000);
    expect(sweeps).toBe(2);
    expect(await failures()).toBe(2);
    expect(lines).toHaveLength(1);

    await timers.advance(30_000);
    expect(sweeps).toBe(3);
    expect(await failures()).toBe(2);
    await timers.advance(30_000);
    expect(sweeps).toBe(4);
    await timer.stop();
  });

  it("stop waits for the sweep in progress and schedules no other", async () => {
    let release: (() => void) | undefined;
    let sweeps = 0;
    const { timers, timer } = timerUnderTest(async () => {
      sweeps += 1;
      await new Promise<void>((resolve) => (release = resolve));
      return result();
    });
    let stopped = false;
    const stopping = timer.stop().then(() => (stopped = true));
    await timers.advance(0);
    expect(stopped).toBe(false);
    release!();
    await stopping;
    await timers.advance(10 * 60_000);
    expect(sweeps).toBe(1);
    expect(timers.delays()).toEqual([]);
  });
});

describe("the reaper service with every CALLFLOW_REAPER_* at its default", () => {
  infra("sweeps at start and then schedules each next sweep 30 s after the last", async ({ database, messaging, storage }) => {
    const env = Object.fromEntries(Object.entries(reaperEnv({ database, messaging, storage })).filter(([name]) => name === "CALLFLOW_REAPER_OPS_PORT" || !name.startsWith("CALLFLOW_REAPER_")));
    const timers = new ManualTimers();
    const reaper = await start(reaperConfigFromEnv(env), { outboxSweeper: false, timers });
    const sweepsDone = async () => {
      const text = await (await fetch(`${reaper.opsUrl}/metrics`)).text();
      return text
        .split("\n")
        .filter((line) => line.startsWith("callflow_reaper_sweep_duration_seconds_count"))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
    };
    try {
      // The start-up sweep ran without any time passing, and the next waits the shipped 30 s.
      await waitFor("the start-up sweep to finish and schedule the next", async () => timers.delays().length === 1);
      expect(timers.delays()).toEqual([30_000]);
      expect(await sweepsDone()).toBe(1);
      await timers.advance(30_000);
      await waitFor("the second sweep to finish and schedule the next", async () => timers.delays().length === 1);
      expect(await sweepsDone()).toBe(2);
    } finally {
      await reaper.stop();
    }
    expect(timers.delays()).toEqual([]);
  });
});
