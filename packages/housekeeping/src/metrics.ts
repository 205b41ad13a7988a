import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface ReaperMetrics {
  stuck: Gauge<"stage">;
  actions: Counter<"kind" | "outcome">;
  sweepDuration: Histogram<"result">;
  /** Timer sweeps that threw or reported errors; the timer carries on at its next interval. */
  sweepFailures: Counter;
  deadLetters: Gauge;
  /** Unix time of this replica's last sweep that ran every part without an error. */
  lastSweep: Gauge;
}

/** The reaper's re-drive actions, counted from 0 so a dashboard shows "none" as 0. */
export const REDRIVE_KINDS = ["chunk.redrive", "stage.redrive", "transcription.redrive"] as const;
export const REAPED_STAGES = ["transcription", "merge", "summary", "upload", "dial", "outbox", "storage"] as const;

/** Gets a metric already on the registry (several reapers in one process, the CLI) or creates it. */
const once = <M>(registry: Registry, name: string, create: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? create();

/** The reaper's metrics on the worker's registry, served at its /metrics. */
export const reaperMetrics = (registry: Registry): ReaperMetrics => {
  const metrics = reaperMetricsOn(registry);
  for (const kind of REDRIVE_KINDS) metrics.actions.inc({ kind, outcome: "applied" }, 0);
  // Until the first sweep sets them: 0 for every stage, where a stage with nothing stuck stays.
  for (const stage of REAPED_STAGES) metrics.stuck.set({ stage }, 0);
  return metrics;
};

const reaperMetricsOn = (registry: Registry): ReaperMetrics => ({
  stuck: once(registry, "callflow_reaper_stuck_entities", () =>
    new Gauge({ name: "callflow_reaper_stuck_entities", help: "Entities past their deadline at the last sweep, by stage (kept at 0)", labelNames: ["stage"], registers: [registry] }),
  ),
  actions: once(registry, "callflow_reaper_actions_total", () =>
    new Counter({ name: "callflow_reaper_actions_total", help: "Reaper actions by kind and outcome (applied, dry_run, stale, failed)", labelNames: ["kind", "outcome"], registers: [registry] }),
  ),
  sweepDuration: once(registry, "callflow_reaper_sweep_duration_seconds", () =>
    new Histogram({
      name: "callflow_reaper_sweep_duration_seconds",
      help: "Seconds one sweep took; result=skipped when another replica held the sweep lock",
      labelNames: ["result"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
  ),
  sweepFailures: once(registry, "callflow_reaper_sweep_failures_total", () =>
    new Counter({ name: "callflow_reaper_sweep_failures_total", help: "Timer sweeps that failed (a query error, the database restarting); retried at the next interval", registers: [registry] }),
  ),
  deadLetters: once(registry, "callflow_dead_letters_unreplayed", () =>
    new Gauge({ name: "callflow_dead_letters_unreplayed", help: "Dead letters never replayed", registers: [registry] }),
  ),
  lastSweep: once(registry, "callflow_reaper_last_sweep_timestamp_seconds", () =>
    new Gauge({ name: "callflow_reaper_last_sweep_timestamp_seconds", help: "Unix time this replica last completed a sweep without an error (0: none yet)", registers: [registry] }),
  ),
});
