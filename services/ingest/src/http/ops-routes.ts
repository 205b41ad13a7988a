import type { FastifyInstance } from "fastify";
import { Histogram, type Registry } from "prom-client";
import type { ReadinessChecks } from "@callflow/telemetry";

export interface OpsDeps {
  registry: Registry;
  readiness: () => Promise<ReadinessChecks>;
  readinessTimeoutMs?: number;
}

const withDeadline = async <T>(work: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`readiness checks did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
};

const httpDuration = (registry: Registry): Histogram<"method" | "route" | "status"> => {
  const name = "callflow_http_request_duration_seconds";
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<"method" | "route" | "status">;
  return new Histogram({
    name,
    help: "Time to answer an HTTP request, by route template and status",
    labelNames: ["method", "route", "status"] as const,
    // Uploads of long recordings take minutes; status reads take milliseconds.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
};

/** /healthz, /readyz and /metrics on the API port, outside auth and rate limits. */
export const registerOpsRoutes = (app: FastifyInstance, deps: OpsDeps): void => {
  const duration = httpDuration(deps.registry);
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    duration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  const config = { public: true, rateLimit: false } as const;
  const hide = { hide: true };
  app.get("/healthz", { config, schema: hide }, async () => ({ status: "ok" }));
  app.get("/readyz", { config, schema: hide }, async (_request, reply) => {
    let checks: ReadinessChecks;
    try {
      checks = await withDeadline(deps.readiness(), deps.readinessTimeoutMs ?? 2_000);
    } catch (error) {
      return reply.code(503).send({ status: "not_ready", failing: ["readiness"], error: error instanceof Error ? error.message : String(error) });
    }
    const failing = Object.entries(checks).filter(([, ok]) => ok !== true).map(([name]) => name);
    return reply.code(failing.length ? 503 : 200).send(failing.length ? { status: "not_ready", failing, checks } : { status: "ready", checks });
  });
  app.get("/metrics", { config, schema: hide }, async (_request, reply) => {
    reply.header("content-type", deps.registry.contentType);
    return deps.registry.metrics();
  });
};
