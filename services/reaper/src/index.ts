import { commitWithEvents, openRuntime, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import { openStorage } from "@callflow/storage";
import { reaperMetrics, registerPipelineState, sweepNow, type SweepOptions, type SweepResult, type SweeperDeps } from "@callflow/housekeeping";
import type { ReaperConfig } from "./config.ts";

export { reaperConfigFromEnv, type ReaperConfig } from "./config.ts";

export interface ReaperHandle extends ServiceHandle {
  /** One sweep now, outside the timer (the lock still applies). */
  sweepNow(options?: SweepOptions): Promise<SweepResult>;
}

export interface StartOptions extends ServiceStartOptions {
  /** Sweep on the interval; default true. Tests that drive sweeps themselves pass false. */
  timer?: boolean;
  /** Run the outbox relay's own sweeper in this process too; default true. */
  outboxSweeper?: boolean;
}

/**
 * The reaper as a worker with no consumers: a sweep at start, then one every `intervalMs`. A sweep that is
 * still running when the next tick comes is not doubled; the next tick waits for it.
 */
export async function start(config: ReaperConfig, options: StartOptions = {}): Promise<ReaperHandle> {
  const { timer: timerOn = true, outboxSweeper = true, ...runtimeOptions } = options;
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

  // Once at start (whatever a previous run left overdue is handled now, not an interval later), then
  // every intervalMs. A failed sweep is logged and counted; it never stops the timer.
  let current: Promise<SweepResult | undefined> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = timerOn;
  const tick = () => {
    current = sweep().then(
      (result) => {
        if (result.errors.length > 0) metrics.sweepFailures.inc();
        return result;
      },
      (error: unknown) => {
        metrics.sweepFailures.inc();
        runtime.logger.error({ err: error }, "reaper sweep failed; trying again at the next interval");
        return undefined;
      },
    );
    void current.finally(schedule);
  };
  const schedule = () => {
    if (running) timer = setTimeout(tick, config.intervalMs);
  };
  // Stopped first: a sweep in progress finishes before the clients it uses close.
  runtime.onStop(async () => {
    running = false;
    clearTimeout(timer);
    await current;
  });
  if (running) tick();
  runtime.logger.info({ intervalMs: config.intervalMs, dryRun: config.dryRun, timer: running }, "reaper sweeping");

  return { ...service, sweepNow: sweep };
}
