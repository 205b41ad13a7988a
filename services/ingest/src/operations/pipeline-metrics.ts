import type { Db } from "@callflow/db";
import { ApiError } from "../http/api-error.ts";

/**
 * The operations charts, computed from the system of record so that every replica of the API answers
 * the same series, over any time range, without a metrics server: calls per minute, stage latency and
 * the work waiting for a consumer. Across tenants (an admin view).
 */

export const METRIC_STAGES = ["transcription", "merge", "summary"] as const;
type MetricStage = (typeof METRIC_STAGES)[number];
type PerStage<T> = Record<MetricStage, T>;

export interface MetricsPoint {
  /** The bucket's start; it spans `stepSeconds`. */
  at: string;
  /** Calls created, completed and failed within the bucket. */
  calls: { created: number; completed: number; failed: number };
  /** Queued → finished of the stage runs that succeeded within the bucket; null where none did. */
  latencyP99Seconds: PerStage<number | null>;
  /**
   * Work queued and not yet taken by a worker at the bucket's end (chunks for transcription, stage
   * runs for merge and summary): the consumers' lag as Postgres records it.
   */
  waiting: PerStage<number>;
}

export interface MetricsRange {
  from: Date;
  to: Date;
  stepSeconds: number;
}

const MAX_POINTS = 500;
const MAX_RANGE_MS = 7 * 24 * 3600 * 1000;
/** The step when none is asked for: whole minutes, at most 120 points. */
const defaultStepSeconds = (rangeMs: number): number => Math.max(60, Math.ceil(rangeMs / 1000 / 120 / 60) * 60);

/** The range asked for, checked; `to` defaults to now and is never later than now (the future has no points). */
export const metricsRangeOf = (query: { from?: string | undefined; to?: string | undefined; stepSeconds?: number | undefined }, now: Date = new Date()): MetricsRange => {
  const to = query.to ? new Date(Math.min(Date.parse(query.to), now.getTime())) : now;
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - 3600_000);
  const rangeMs = to.getTime() - from.getTime();
  if (rangeMs <= 0) throw new ApiError(400, "invalid_range", "from must be earlier than to (and than now)");
  if (rangeMs > MAX_RANGE_MS) throw new ApiError(400, "invalid_range", "the range may span at most 7 days");
  const stepSeconds = query.stepSeconds ?? defaultStepSeconds(rangeMs);
  if (rangeMs / 1000 / stepSeconds > MAX_POINTS) throw new ApiError(400, "invalid_range", `stepSeconds ${stepSeconds} gives more than ${MAX_POINTS} points; choose a longer step`);
  return { from, to, stepSeconds };
};

interface CountRow {
  i: number;
  created: number;
  completed: number;
  failed: number;
}
interface StageRow {
  i: number;
  stage: MetricStage;
  value: number;
}

export const pipelineMetrics = async (db: Db, range: MetricsRange): Promise<MetricsPoint[]> => {
  const { from, to, stepSeconds: step } = range;
  const count = Math.ceil((to.getTime() - from.getTime()) / 1000 / step);
  const [calls, latency, waiting] = await Promise.all([
    db.$queryRaw<CountRow[]>`
      SELECT i, sum(created)::int AS created, sum(completed)::int AS completed, sum(failed)::int AS failed FROM (
        SELECT floor(extract(epoch FROM created_at - ${from}::timestamptz) / ${step})::int AS i, 1 AS created, 0 AS completed, 0 AS failed
          FROM calls WHERE created_at >= ${from} AND created_at < ${to}
        UNION ALL
        SELECT floor(extract(epoch FROM completed_at - ${from}::timestamptz) / ${step})::int, 0, 1, 0
          FROM calls WHERE status = 'completed' AND completed_at >= ${from} AND completed_at < ${to}
        UNION ALL
        -- A failed call's row was last written when it failed.
        SELECT floor(extract(epoch FROM updated_at - ${from}::timestamptz) / ${step})::int, 0, 0, 1
          FROM calls WHERE status = 'failed' AND updated_at >= ${from} AND updated_at < ${to}
      ) events GROUP BY i`,
    db.$queryRaw<StageRow[]>`
      SELECT floor(extract(epoch FROM finished_at - ${from}::timestamptz) / ${step})::int AS i, stage::text AS stage,
             percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at))::float8 AS value
        FROM stage_runs
       WHERE status = 'succeeded' AND stage IN ('transcription', 'merge', 'summary') AND finished_at >= ${from} AND finished_at < ${to}
       GROUP BY 1, 2`,
    // Only rows that were open at some time in the range take part; each bucket's end counts those
    // created by then and neither started nor finished by then. A settled row without a finish time
    // has no known end: it is left out rather than counted as waiting for ever.
    db.$queryRaw<StageRow[]>`
      WITH open_work AS MATERIALIZED (
        SELECT 'transcription' AS stage, created_at, started_at, finished_at FROM chunks
         WHERE created_at < ${to} AND (started_at IS NULL OR started_at > ${from})
           AND (status IN ('queued', 'running') OR (status IN ('transcribed', 'failed') AND finished_at > ${from}))
        UNION ALL
        SELECT stage::text, created_at, started_at, finished_at FROM stage_runs
         WHERE stage IN ('merge', 'summary') AND created_at < ${to} AND (started_at IS NULL OR started_at > ${from})
           AND (status IN ('queued', 'running') OR finished_at > ${from})
      ), instants AS (
        SELECT i, LEAST(${from}::timestamptz + make_interval(secs => (i + 1) * ${step}), ${to}::timestamptz) AS t FROM generate_series(0, ${count - 1}::int) AS i
      )
      SELECT i, stage, count(*)::float8 AS value
        FROM instants JOIN open_work w
          ON w.created_at <= t AND (w.started_at IS NULL OR w.started_at > t) AND (w.finished_at IS NULL OR w.finished_at > t)
       GROUP BY 1, 2`,
  ]);

  const points: MetricsPoint[] = Array.from({ length: count }, (_, i) => ({
    at: new Date(from.getTime() + i * step * 1000).toISOString(),
    calls: { created: 0, completed: 0, failed: 0 },
    latencyP99Seconds: { transcription: null, merge: null, summary: null },
    waiting: { transcription: 0, merge: 0, summary: 0 },
  }));
  for (const row of calls) {
    const point = points[row.i];
    if (point) point.calls = { created: row.created, completed: row.completed, failed: row.failed };
  }
  for (const row of latency) {
    const point = points[row.i];
    if (point) point.latencyP99Seconds[row.stage] = row.value;
  }
  for (const row of waiting) {
    const point = points[row.i];
    if (point) point.waiting[row.stage] = row.value;
  }
  return points;
};
