import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.ts";
import { serveOps, type OpsServer, type ReadinessChecks } from "./ops-server.ts";

const servers: OpsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const start = async (readiness: () => Promise<ReadinessChecks>, registry = new Registry(), readinessTimeoutMs?: number) => {
  const server = await serveOps({ port: 0, host: "127.0.0.1", registry, readiness, ...(readinessTimeoutMs ? { readinessTimeoutMs } : {}) });
  servers.push(server);
  return server;
};

describe("serveOps", () => {
  it("listens on a free port when asked for port 0", async () => {
    const server = await start(async () => ({}));
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it("answers /healthz with 200 while the process runs, whatever readiness says", async () => {
    const server = await start(async () => ({ nats: false }));
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers /readyz with 200 and the checks when every check passes", async () => {
    const server = await start(async () => ({ nats: true, postgres: true, consumers: true }));
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", checks: { nats: true, postgres: true, consumers: true } });
  });

  it("answers /readyz with 503 naming the failing checks", async () => {
    const server = await start(async () => ({ nats: true, postgres: "connection refused", consumers: false }));
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: "not_ready",
      failing: ["postgres", "consumers"],
      checks: { nats: true, postgres: "connection refused", consumers: false },
    });
  });

  it("answers /readyz with 503 when the checks throw", async () => {
    const server = await start(async () => {
      throw new Error("pool closed");
    });
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "not_ready", failing: ["readiness"], error: "pool closed" });
  });

  it("answers /readyz with 503 when the checks hang past their deadline", async () => {
    const server = await start(() => new Promise<never>(() => {}), new Registry(), 50);
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ failing: ["readiness"], error: "readiness checks did not answer within 50 ms" });
  });

  it("serves the registry on /metrics in Prometheus text format", async () => {
    const metrics = createMetrics({ service: "aggregator" });
    metrics.deadLetters.inc({ stage: "ledger" }, 3);
    const server = await start(async () => ({}), metrics.registry);

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(await res.text()).toMatch(/^callflow_dead_letters_total\{stage="ledger",service="aggregator"\} 3$/m);
  });

  it("answers 404 for other paths and 405 for other methods", async () => {
    const server = await start(async () => ({}));
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/readyz`, { method: "POST" })).status).toBe(405);
  });

  it("closes even while a client holds a keep-alive connection", async () => {
    const server = await serveOps({ port: 0, host: "127.0.0.1", registry: new Registry(), readiness: async () => ({}) });
    await (await fetch(`${server.url}/healthz`, { headers: { connection: "keep-alive" } })).text();
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
