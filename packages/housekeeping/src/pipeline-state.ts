import type { Db } from "@callflow/db";
import { Counter, Gauge, type Registry } from "prom-client";

/**
 * What the dashboards and alerts read from Postgres, the system of record, collected when Prometheus
 * scrapes the reaper: the counts no single worker sees (calls by status, failures by error code, dials
 * by status) and the age of the oldest call in processing, the number the stuck-call alerts watch.
 * Every replica reports the same figures; dashboards take their `max`.
 */
export interface PipelineState {
  callsByStatus: { status: string; count: number }[];
  failedCalls: { stage: string; errorCode: string; count: number }[];
  dialsByStatus: { status: string; count: number }[];
  /** Seconds since the least recently changed call in `processing` last changed; 0 when none is. */
  oldestProcessingAgeSeconds: number;
}

export const CALL_STATUSES = ["uploading", "processing", "completed", "failed"] as const;
export const DIAL_STATUSES = ["queued", "scheduled", "placing", "placed", "ringing", "in_progress", "completed", "no_answer", "busy", "failed", "canceled"] as const;

export const readPipelineState = async (db: Db): Promise<PipelineState> => {
  const [calls, dials, oldest] = await Promise.all([
    db.$queryRaw<{ status: string; failed_stage: string | null; error_code: string | null; n: number }[]>`
      SELECT status::text AS status, failed_stage, error_code, count(*)::int AS n FROM calls GROUP BY 1, 2, 3`,
    db.$queryRaw<{ status: string; n: number }[]>`SELECT status::text AS status, count(*)::int AS n FROM dials GROUP BY 1`,
    db.$queryRaw<{ age: number | null }[]>`
      SELECT EXTRACT(EPOCH FROM now() - min(updated_at))::double precision AS age FROM calls WHERE status = 'processing'`,
  ]);
  const byStatus = new Map<string, number>();
  for (const row of calls) byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + row.n);
  return {
    callsByStatus: [...byStatus].map(([status, count]) => ({ status, count })),
    failedCalls: calls
      .filter((row) => row.status === "failed")
      .map((row) => ({ stage: row.failed_stage ?? "unknown", errorCode: row.error_code ?? "unknown", count: row.n })),
    dialsByStatus: dials.map((row) => ({ status: row.status, count: row.n })),
    oldestProcessingAgeSeconds: Math.max(0, oldest[0]?.age ?? 0),
  };
};

export interface PipelineStateOptions {
  /** One read serves every gauge of a scrape, and scrapes closer together than this; default 5 s. */
  maxAgeMs?: number;
  read?: (db: Db) => Promise<PipelineState>;
  now?: () => number;
}

const once = <M>(registry: Registry, name: string, create: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? create();

/**
 * Registers the pipeline-state metrics on `registry`, read from `db` at scrape time. A read that
 * fails leaves the labelled series out of that scrape (a gap, not a stale number); the unlabelled
 * ones read 0 then, as prom-client always reports them.
 */
export const registerPipelineState = (registry: Registry, db: Db, options: PipelineStateOptions = {}): void => {
  const maxAgeMs = options.maxAgeMs ?? 5_000;
  const read = options.read ?? readPipelineState;
  const now = options.now ?? Date.now;
  let cached: { at: number; state: Promise<PipelineState | undefined> } | undefined;
  const current = (): Promise<PipelineState | undefined> => {
    if (!cached || now() - cached.at > maxAgeMs) cached = { at: now(), state: read(db).catch(() => undefined) };
    return cached.state;
  };

  once(registry, "callflow_calls", () =>
    new Gauge({
      name: "callflow_calls",
      help: "Calls by status, from Postgres",
      labelNames: ["status"] as const,
      registers: [registry],
      async collect() {
        const state = await current();
        this.reset();
        if (!state) return;
        for (const status of CALL_STATUSES) this.set({ status }, state.callsByStatus.find((row) => row.status === status)?.count ?? 0);
      },
    }),
  );
  once(registry, "callflow_calls_created_total", () =>
    new Counter({
      name: "callflow_calls_created_total",
      help: "Calls ever created (every status), from Postgres: its rate is calls per second",
      registers: [registry],
      async collect() {
        const state = await current();
        this.reset();
        if (state) this.inc(state.callsByStatus.reduce((sum, row) => sum + row.count, 0));
      },
    }),
  );
  once(registry, "callflow_calls_failed", () =>
    new Gauge({
      name: "callflow_calls_failed",
      help: "Failed calls by the stage that failed them and their error code, from Postgres",
      labelNames: ["stage", "error_code"] as const,
      registers: [registry],
      async collect() {
        const state = await current();
        this.reset();
        for (const row of state?.failedCalls ?? []) this.inc({ stage: row.stage, error_code: row.errorCode }, row.count);
      },
    }),
  );
  once(registry, "callflow_calls_processing_oldest_age_seconds", () =>
    new Gauge({
      name: "callflow_calls_processing_oldest_age_seconds",
      help: "Seconds since the least recently changed call in processing changed (0 when none is processing)",
      registers: [registry],
      async collect() {
        const state = await current();
        this.reset();
        if (state) this.set(state.oldestProcessingAgeSeconds);
      },
    }),
  );
  once(registry, "callflow_dials", () =>
    new Gauge({
      name: "callflow_dials",
      help: "Dials by status, from Postgres",
      labelNames: ["status"] as const,
      registers: [registry],
      async collect() {
        const state = await current();
        this.reset();
        if (!state) return;
        for (const status of DIAL_STATUSES) this.set({ status }, state.dialsByStatus.find((row) => row.status === status)?.count ?? 0);
      },
    }),
  );
};
