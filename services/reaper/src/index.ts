import { commitWithEvents, startWorker, workerBasics, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import { openStorage, type OpenStorage } from "@callflow/storage";
import { reaperMetrics, sweepNow, type SweepOptions, type SweepResult, type SweeperDeps } from "@callflow/housekeeping";
import type { ReaperConfig } from "./config.ts";

export { reaperConfigFromEnv, type ReaperConfig } from "./config.ts";

export interface ReaperHandle extends ServiceHandle {
  /** One sweep now, outside the timer (the lock still applies). */
  sweepNow(options?: SweepOptions): Promise<SweepResult>;
  stop(): Promise<void>;
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
  const storage: OpenStorage = await openStorage(config.storage);
  const worker = await startWorker({
    // Signals stop the sweep timer first (below), then the worker.
    ...workerBasics("reaper", config, { ...options, handleSignals: false }),
    outboxSweeper: options.outboxSweeper ?? true,
    release: () => storage.close(),
    consumers: [],
  });
  const { context } = worker;
  const metrics = reaperMetrics(context.metrics.registry);
  const deps: SweeperDeps = {
    db: context.db,
    commit: (work) => commitWithEvents(context.db, context.topology, work, context.relay),
    publishNow: (ids) => context.relay.publishNow(ids),
    store: storage.store,
    policy: config.policy,
    logger: context.logger,
    metrics,
    sweepTimeoutMs: config.sweepTimeoutMs,
  };

  let current: Promise<SweepResult | undefined> | undefined;
  const sweep = (sweepOptions: SweepOptions = {}): Promise<SweepResult> => sweepNow(deps, { dryRun: config.dryRun, ...sweepOptions });

  // Once at start (whatever a previous run left overdue is handled now, not an interval later), then
  // every intervalMs. A failed sweep is logged and counted; it never stops the timer.
  let timer: NodeJS.Timeout | undefined;
  let running = options.timer ?? true;
  const tick = () => {
    current = sweep().then(
      (result) => {
        if (result.errors.length > 0) metrics.sweepFailures.inc();
        return result;
      },
      (error: unknown) => {
        metrics.sweepFailures.inc();
        context.logger.error({ err: error }, "reaper sweep failed; trying again at the next interval");
        return undefined;
      },
    );
    void current.finally(schedule);
  };
  const schedule = () => {
    if (running) timer = setTimeout(tick, config.intervalMs);
  };
  if (running) tick();
  context.logger.info({ intervalMs: config.intervalMs, dryRun: config.dryRun, timer: running }, "reaper sweeping");

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      running = false;
      clearTimeout(timer);
      await current?.catch(() => undefined);
      await worker.stop();
    })();
    return stopping;
  };

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      context.logger.info({ signal }, "signal received");
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          context.logger.error({ err: error }, "reaper did not stop cleanly");
          process.exit(1);
        },
      );
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }

  return { opsUrl: worker.opsUrl, context, sweepNow: sweep, stop };
}
