import type { z } from "zod";
import { field } from "./fields.ts";

/** The settings every worker reads the same way, each from `CALLFLOW_<SERVICE>_<SUFFIX>`. */
const SETTINGS = {
  /** Port of /metrics, /healthz, /readyz; 0 picks a free one (tests). */
  opsPort: { suffix: "OPS_PORT", field: field.port },
  /** Handlers running at once in one process. */
  concurrency: { suffix: "CONCURRENCY", field: field.positiveInt },
  ackWaitMs: { suffix: "ACK_WAIT_MS", field: field.milliseconds },
  maxDeliver: { suffix: "MAX_DELIVER", field: field.positiveInt },
  /** How often a running unit of work refreshes its heartbeat. */
  heartbeatMs: { suffix: "HEARTBEAT_MS", field: field.milliseconds },
  /** A running unit whose heartbeat is older than this has lost its worker. */
  staleAfterMs: { suffix: "STALE_AFTER_MS", field: field.milliseconds },
} as const;

export type WorkerSetting = keyof typeof SETTINGS;
type Variable<P extends string, S extends WorkerSetting> = `CALLFLOW_${P}_${(typeof SETTINGS)[S]["suffix"]}`;
type Chosen<D> = keyof D & WorkerSetting;

export interface WorkerFields<P extends string, D extends Partial<Record<WorkerSetting, number>>> {
  /** Spread into the service's schema: one variable per chosen setting, with its default. */
  readonly fields: { [S in Chosen<D> as Variable<P, S>]: z.ZodDefault<ReturnType<(typeof SETTINGS)[S]["field"]>> };
  /** The chosen settings, read from the parsed environment. */
  settings(parsed: { [S in Chosen<D> as Variable<P, S>]: number }): { readonly [S in Chosen<D>]: number };
}

/**
 * The worker settings a service chooses, with its defaults: `workerFields("MERGE", { opsPort: 9104,
 * concurrency: 2, … })` declares `CALLFLOW_MERGE_OPS_PORT`, `CALLFLOW_MERGE_CONCURRENCY`, … and reads
 * them back as `{ opsPort, concurrency, … }`.
 */
export function workerFields<P extends string, const D extends Partial<Record<WorkerSetting, number>>>(prefix: P, defaults: D): WorkerFields<P, D> {
  const chosen = Object.entries(defaults) as [WorkerSetting, number][];
  const variable = (setting: WorkerSetting) => `CALLFLOW_${prefix}_${SETTINGS[setting].suffix}`;
  return {
    fields: Object.fromEntries(chosen.map(([setting, value]) => [variable(setting), SETTINGS[setting].field().default(value)])) as WorkerFields<P, D>["fields"],
    settings: (parsed) =>
      Object.fromEntries(chosen.map(([setting]) => [setting, (parsed as Record<string, number>)[variable(setting)]])) as ReturnType<WorkerFields<P, D>["settings"]>,
  };
}
