import { useEffect, useId, useState } from "react";
import { ApiError, queryOf } from "../../api/client.ts";
import type { MetricStage, Metrics } from "../../api/types.ts";
import { useSession } from "../../session.tsx";
import { ErrorNote, Loading } from "../../ui/components.tsx";
import { useInterval } from "../../ui/hooks.ts";
import { LineChart } from "../../ui/line-chart.tsx";

/** The ranges offered, each with a step that gives 60 to 100 points. */
const RANGES = [
  { name: "15 minutes", ms: 15 * 60_000, stepSeconds: 15 },
  { name: "hour", ms: 3_600_000, stepSeconds: 60 },
  { name: "6 hours", ms: 6 * 3_600_000, stepSeconds: 300 },
  { name: "24 hours", ms: 24 * 3_600_000, stepSeconds: 900 },
  { name: "7 days", ms: 7 * 24 * 3_600_000, stepSeconds: 7_200 },
] as const;
const STAGES: MetricStage[] = ["transcription", "merge", "summary"];
const REFRESH_MS = 15_000;

/** Calls per minute, stage latency p99 and the work waiting for each consumer (GET /v1/admin/metrics), live. */
export const MetricsOverview = () => {
  const { api } = useSession();
  const id = useId();
  const [rangeIndex, setRangeIndex] = useState(1);
  const [metrics, setMetrics] = useState<{ data?: Metrics; error?: ApiError }>({});
  const [tick, setTick] = useState(0);
  useInterval(() => setTick((n) => n + 1), REFRESH_MS);
  const range = RANGES[rangeIndex]!;

  // Each read ends now (the API's default `to`), so the window slides with every refresh.
  useEffect(() => {
    const controller = new AbortController();
    const from = new Date(Date.now() - range.ms).toISOString();
    api.get<Metrics>(`/v1/admin/metrics${queryOf({ from, stepSeconds: range.stepSeconds })}`, controller.signal).then(
      (data) => setMetrics({ data }),
      (error: unknown) => {
        if (!controller.signal.aborted) setMetrics((previous) => ({ ...previous, error: error instanceof ApiError ? error : new ApiError(0, "unexpected", String(error)) }));
      },
    );
    return () => controller.abort();
  }, [api, range, tick]);

  const { data, error } = metrics;
  const times = data?.points.map((point) => point.at) ?? [];
  const perMinute = (count: number) => (data ? count / (data.stepSeconds / 60) : 0);
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>The pipeline over time</h2>
      <div className="filters">
        <div className="field">
          <label htmlFor={`${id}-range`}>Time range</label>
          <select id={`${id}-range`} value={rangeIndex} onChange={(event) => setRangeIndex(Number(event.target.value))}>
            {RANGES.map((r, index) => (
              <option key={r.name} value={index}>
                last {r.name}
              </option>
            ))}
          </select>
        </div>
        <p className="muted">Across tenants, from Postgres; updated every {REFRESH_MS / 1000} s.</p>
      </div>
      <ErrorNote error={error} prefix="The metrics could not be read" />
      {!data && !error ? <Loading what="the metrics" /> : null}
      {data ? (
        <div className="charts">
          <LineChart
            title="Calls per minute"
            unit="calls/min"
            times={times}
            series={[
              { name: "created", values: data.points.map((p) => perMinute(p.calls.created)) },
              { name: "completed", values: data.points.map((p) => perMinute(p.calls.completed)) },
              { name: "failed", values: data.points.map((p) => perMinute(p.calls.failed)) },
            ]}
          />
          <LineChart title="Stage latency p99, queued to finished" unit="seconds" times={times} series={STAGES.map((stage) => ({ name: stage, values: data.points.map((p) => p.latencyP99Seconds[stage]) }))} />
          <LineChart title="Consumer lag: work waiting for a worker" unit="items" times={times} series={STAGES.map((stage) => ({ name: stage, values: data.points.map((p) => p.waiting[stage]) }))} />
        </div>
      ) : null}
    </section>
  );
};
