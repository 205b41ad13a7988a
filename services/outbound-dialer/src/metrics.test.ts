import { Registry } from "prom-client";
import { describe, expect, test } from "vitest";
import { dialerMetrics, observeCallbackLag } from "./metrics.ts";

const value = async (registry: Registry, name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;

describe("the dialer's rate and lag metrics", () => {
  test("the achieved rate is read at scrape time beside the configured limit", async () => {
    const registry = new Registry();
    let now = 100_000;
    const metrics = dialerMetrics(registry, { callsPerSecond: 5, now: () => now });
    for (let i = 0; i < 20; i++) metrics.achieved.record(now - i * 200);
    expect(await value(registry, "callflow_dialer_calls_per_second_limit")).toBe(5);
    expect(await value(registry, "callflow_dialer_achieved_calls_per_second")).toBe(2); // 20 in the last 10 s
    now += 60_000;
    expect(await value(registry, "callflow_dialer_achieved_calls_per_second")).toBe(0);
  });

  test("callback lag: occurredAt to applied, a report without the carrier's time not counted", async () => {
    const registry = new Registry();
    const metrics = dialerMetrics(registry);
    observeCallbackLag(metrics, "2026-12-07T10:00:03.000Z", new Date("2026-12-07T10:00:03.750Z"));
    observeCallbackLag(metrics, "", new Date());
    observeCallbackLag(metrics, "not a time", new Date());
    const lag = (await registry.getSingleMetric("callflow_dialer_callback_lag_seconds")?.get())?.values as { metricName?: string; value: number }[] | undefined;
    expect(lag?.find((v) => v.metricName === "callflow_dialer_callback_lag_seconds_count")?.value).toBe(1);
    expect(lag?.find((v) => v.metricName === "callflow_dialer_callback_lag_seconds_sum")?.value).toBeCloseTo(0.75);
  });
});
