import { commitWithEvents, openRuntime, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import { openStorage } from "@callflow/storage";
import { reaperMetrics, registerPipelineState, sweepNow, type SweepOptions, type SweepResult, type SweeperDeps } from "@callflow/housekeeping";
import type { ReaperConfig } from "./config.ts";
import { startSweepTimer, type SweepTimer, type Timers } from "./sweep-timer.ts";

export { reaperConfigFromEnv, type ReaperConfig } from "./config.ts";
export { startSweepTimer, type SweepTimer, type SweepTimerOptions, type Timers } from "./sweep-timer.ts";

export interface ReaperHandle extends ServiceHandle {
  /** One sweep now, outside the timer (the lock still applies). */
  sweepNow(options?: SweepOptions): Promise<SweepResult>;
}

export interface StartOptions extends ServiceStartOptions {
  /** Sweep on the interval; default true. Tests that drive sweeps themselves pass false. */
  timer?: boolean;
  /** Run the outbox relay's own sweeper in this process too; default true. */
  outboxSweeper?: boolean;
  /** What the timer schedules with; default the global setTimeout/clearTimeout. */
  timers?: Timers;
}

/**
 * The reaper as a worker with no consumers: a sweep at start, then one every `intervalMs`. A sweep that is
 * still running when the next tick comes is not doubled; the next tick waits for it.
 */
export async function start(config: ReaperConfig, options: StartOptions = {}): Promise<ReaperHandle> {
  const { timer: timerOn = true, outboxSweeper = true, timers, ...runtimeOptions } = options;
  const runtime = await openRuntime({ service: "reaper", config, outboxSweeper, ...runtimeOptions });
  const storage = await runtime.own("waiting for object storage", () => openStorage(config.storage), (opened) => opened.close());
  const metrics = reaperMetrics(runtime.metrics.registry);
  // Calls and dials by status, failures by error code, the oldest processing call: read at scrape time.
  registerPipelineState(runtime.metrics.registry, runtime.db);
  const deps: SweeperDeps = {
    db: runtime.db,
    commit: (work) => commitWithEvents(runtime.db, runtime.topology, work, runtime.relay),
    publishNow: (ids) => runtime.relay.publishNow(ids),
    store: storage.store,
    policy: config.policy,
    logger: runtime.logger,
    metrics,
    sweepTimeoutMs: config.sweepTimeoutMs,
  };
  const sweep = (sweepOptions: SweepOptions = {}): Promise<SweepResult> => sweepNow(deps, { dryRun: config.dryRun, ...sweepOptions });
  const service = await runtime.run({ consumers: [] });

  // Once at start, then every intervalMs; a failed sweep is logged and counted and never stops the
  // timer (src/sweep-timer.ts).
  let timer: SweepTimer | undefined;
  if (timerOn) {
    timer = startSweepTimer({ intervalMs: config.intervalMs, sweep: () => sweep(), failures: metrics.sweepFailures, logger: runtime.logger, ...(timers ? { timers } : {}) });
  }
  // Stopped first: a sweep in progress finishes before the clients it uses close.
  runtime.onStop(async () => {
    await timer?.stop();
  });
  runtime.logger.info({ intervalMs: config.intervalMs, dryRun: config.dryRun, timer: timerOn }, "reaper sweeping");

  return { ...service, sweepNow: sweep };
}
