import { Gauge, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.ts";

/** The value of one sample in Prometheus text format, matching labels regardless of their order. */
const sample = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]);
    if (JSON.stringify(found.sort()) === wanted) return Number(match[3]);
  }
  return undefined;
};

describe("createMetrics", () => {
  it("reports exact counts after known observations", async () => {
    const metrics = createMetrics({ service: "transcription" });
    const ack = { stage: "transcribe", outcome: "ack" };
    for (const seconds of [0.2, 3, 45, 700]) metrics.handlerDuration.observe(ack, seconds);
    metrics.handlerDuration.observe({ stage: "transcribe", outcome: "retry" }, 0.01);
    for (let i = 0; i < 5; i++) metrics.deliveries.inc({ stage: "transcribe" });
    metrics.redeliveries.inc({ stage: "transcribe" });
    metrics.deadLetters.inc({ stage: "transcribe" });
    metrics.consumerLag.set({ stream: "CALLS", consumer: "callflow_transcription" }, 17);
    metrics.outboxOldestAge.set(4.5);
    metrics.outboxPublished.inc(2);

    const text = await metrics.registry.metrics();
    const service = "transcription";
    const bucket = (le: string) => sample(text, "callflow_handler_duration_seconds_bucket", { ...ack, service, le });
    expect([bucket("0.25"), bucket("5"), bucket("60"), bucket("600"), bucket("+Inf")]).toEqual([1, 2, 3, 3, 4]);
    expect(sample(text, "callflow_handler_duration_seconds_count", { ...ack, service })).toBe(4);
    expect(sample(text, "callflow_handler_duration_seconds_sum", { ...ack, service })).toBeCloseTo(748.2);
    expect(sample(text, "callflow_handler_duration_seconds_count", { stage: "transcribe", outcome: "retry", service })).toBe(1);
    expect(sample(text, "callflow_deliveries_total", { stage: "transcribe", service })).toBe(5);
    expect(sample(text, "callflow_redeliveries_total", { stage: "transcribe", service })).toBe(1);
    expect(sample(text, "callflow_dead_letters_total", { stage: "transcribe", service })).toBe(1);
    expect(sample(text, "callflow_consumer_lag", { stream: "CALLS", consumer: "callflow_transcription", service })).toBe(17);
    expect(sample(text, "callflow_outbox_oldest_age_seconds", { service })).toBe(4.5);
    expect(sample(text, "callflow_outbox_published_total", { service })).toBe(2);
  });

  it("keeps handler buckets up to ten minutes for audio work", async () => {
    const metrics = createMetrics({ service: "merge" });
    metrics.handlerDuration.observe({ stage: "merge", outcome: "ack" }, 1);
    const text = await metrics.registry.metrics();
    const bounds = [...text.matchAll(/callflow_handler_duration_seconds_bucket\{le="([^"]+)"/g)].map(([, le]) => le);
    expect(bounds.at(0)).toBe("0.005");
    expect(bounds.at(-2)).toBe("600");
    expect(bounds.at(-1)).toBe("+Inf");
  });

  it("collects process metrics with the callflow_ prefix and the service label", async () => {
    const text = await createMetrics({ service: "reaper" }).registry.metrics();
    expect(sample(text, "callflow_process_cpu_user_seconds_total", { service: "reaper" })).toBeGreaterThanOrEqual(0);
    expect(text).toContain("callflow_nodejs_heap_size_used_bytes");
  });

  it("reuses the metrics when a second service registers on the same registry", async () => {
    const registry = new Registry();
    const first = createMetrics({ service: "callflow", registry });
    const second = createMetrics({ service: "merge", registry });

    expect(second.registry).toBe(registry);
    expect(second.deliveries).toBe(first.deliveries);
    expect(second.handlerDuration).toBe(first.handlerDuration);
    first.deliveries.inc({ stage: "merge" });
    second.deliveries.inc({ stage: "merge" });
    const text = await registry.metrics();
    expect(sample(text, "callflow_deliveries_total", { stage: "merge", service: "callflow" })).toBe(2);
  });

  it("refuses a registry where a Callflow metric name already holds another kind of metric", () => {
    const registry = new Registry();
    new Gauge({ name: "callflow_deliveries_total", help: "not a counter", registers: [registry] });
    expect(() => createMetrics({ service: "ingest", registry })).toThrow(
      "metric callflow_deliveries_total is already registered with a different type",
    );
  });
});
