import type { Logger } from "@callflow/telemetry";
import type { ReconcileReport } from "./reconcile-dials.ts";

/**
 * Runs the reconciler once at start, then every `everyMs`; a pass still running when the next is due
 * is not doubled, and a failed pass is logged and tried again at the next tick. `stop` waits for the
 * pass in progress, so it commits before the clients close.
 */
export function startReconcileTimer(options: { everyMs: number; reconcile: () => Promise<ReconcileReport>; logger: Pick<Logger, "info" | "error"> }) {
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  const tick = () => {
    current = options.reconcile().then(
      (report) => {
        if (report.actions.length > 0) options.logger.info({ stale: report.stale, actions: report.actions }, "dials reconciled with the carrier");
      },
      (error: unknown) => options.logger.error({ err: error }, "reconciling dials failed; trying again at the next interval"),
    );
    void current.finally(() => {
      if (running) timer = setTimeout(tick, options.everyMs);
    });
  };
  tick();
  return {
    stop: async (): Promise<void> => {
      running = false;
      clearTimeout(timer);
      await current;
    },
  };
}
