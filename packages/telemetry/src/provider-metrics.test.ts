import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { BREAKER_STATE, providerMetrics, trackBreakerState } from "./provider-metrics.ts";

const valuesOf = async (registry: Registry, name: string) =>
  ((await registry.getSingleMetric(name)?.get())?.values ?? []).map((value) => ({ labels: value.labels, value: value.value }));

/** A breaker as cockatiel's exposes its state: onStateChange with its CircuitState numbers. */
const fakeBreaker = () => {
  const listeners: ((state: number) => void)[] = [];
  return { onStateChange: (listener: (state: number) => void) => listeners.push(listener), emit: (state: number) => listeners.forEach((listener) => listener(state)) };
};

describe("providerMetrics", () => {
  it("starts every named provider's outcomes at 0, so 'no 429s' is a 0 series", async () => {
    const registry = new Registry();
    providerMetrics(registry, ["openai"]);
    expect(await valuesOf(registry, "callflow_provider_requests_total")).toEqual([
      { labels: { provider: "openai", outcome: "ok" }, value: 0 },
      { labels: { provider: "openai", outcome: "rate_limited" }, value: 0 },
      { labels: { provider: "openai", outcome: "error" }, value: 0 },
    ]);
    // No breaker series until a breaker is tracked: the local recognizer has none.
    expect(await valuesOf(registry, "callflow_provider_breaker_state")).toEqual([]);
  });

  it("reuses the metrics already on a registry (several services in one process)", () => {
    const registry = new Registry();
    expect(providerMetrics(registry).requests).toBe(providerMetrics(registry, ["local"]).requests);
  });

  it("follows a breaker through closed, open and half-open (cockatiel's numbering: 0, 1, 2; isolated 3)", async () => {
    const registry = new Registry();
    const metrics = providerMetrics(registry);
    const breaker = fakeBreaker();
    trackBreakerState(metrics, "twilio", breaker);
    const state = async () => (await valuesOf(registry, "callflow_provider_breaker_state"))[0]?.value;
    expect(await state()).toBe(BREAKER_STATE.closed);
    breaker.emit(1);
    expect(await state()).toBe(BREAKER_STATE.open);
    breaker.emit(2);
    expect(await state()).toBe(BREAKER_STATE.halfOpen);
    breaker.emit(0);
    expect(await state()).toBe(BREAKER_STATE.closed);
    breaker.emit(3);
    expect(await state()).toBe(BREAKER_STATE.open);
  });

  it("buckets real-time factors from much faster than real time to several times slower", async () => {
    const registry = new Registry();
    const metrics = providerMetrics(registry);
    metrics.realTimeFactor.observe({ provider: "local" }, 0.9);
    metrics.realTimeFactor.observe({ provider: "local" }, 3);
    const text = await registry.metrics();
    expect(text).toContain('callflow_transcription_real_time_factor_bucket{le="1",provider="local"} 1');
    expect(text).toContain('callflow_transcription_real_time_factor_bucket{le="4",provider="local"} 2');
  });
});
