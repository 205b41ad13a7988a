import type { SweepResult } from "@callflow/housekeeping";
import type { Logger } from "@callflow/telemetry";

/** The timer functions the reaper schedules with; tests inject their own to run its shipped interval. */
export interface Timers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemTimers: Timers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SweepTimerOptions {
  intervalMs: number;
  sweep: () => Promise<SweepResult>;
  /** `callflow_reaper_sweep_failures_total`. */
  failures: { inc(): void };
  logger: Pick<Logger, "error">;
  timers?: Timers;
}

export interface SweepTimer {
  /** No more sweeps; resolves once a sweep in progress has finished. */
  stop(): Promise<void>;
}

/**
 * One sweep at once (whatever a previous run left overdue is handled now, not an interval later),
 * then one `intervalMs` after each sweep ends, so a slow sweep is never doubled. A sweep that throws
 * (a query error, Postgres restarting) or reports errors is counted; one that throws is logged too.
 * Neither stops the timer: the next sweep comes at the next interval.
 */
export function startSweepTimer(options: SweepTimerOptions): SweepTimer {
  const timers = options.timers ?? systemTimers;
  let running = true;
  let handle: unknown;
  let current: Promise<unknown> | undefined;
  const schedule = () => {
    if (running) handle = timers.setTimeout(tick, options.intervalMs);
  };
  function tick() {
    current = options.sweep().then(
      (result) => {
        if (result.errors.length > 0) options.failures.inc();
      },
      (error: unknown) => {
        options.failures.inc();
        options.logger.error({ err: error }, "reaper sweep failed; trying again at the next interval");
      },
    );
    void current.finally(schedule);
  }
  tick();
  return {
    async stop() {
      running = false;
      timers.clearTimeout(handle);
      await current;
    },
  };
}
