import Fastify, { type FastifyBaseLogger } from "fastify";
import rateLimit from "@fastify/rate-limit";
import { FastifyOtelInstrumentation } from "@fastify/otel";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "@callflow/telemetry";
import type { ApiKeyLookup } from "../auth/api-keys.ts";
import { ApiError } from "./api-error.ts";
import { registerAuth } from "./auth.ts";
import { registerErrorHandling } from "./error-handler.ts";
import { registerOpenApi } from "./openapi.ts";
import { registerOpsRoutes, type OpsDeps } from "./ops-routes.ts";

export interface HttpAppOptions {
  logger: Logger;
  apiKeys: ApiKeyLookup;
  rateLimitPerMinute: number;
  publicUrl: string | undefined;
  ops: OpsDeps;
  version?: string;
}

const UNTRACED_PATHS = new Set(["/metrics", "/healthz", "/readyz"]);

/** @fastify/otel, whose tracer is the running SDK's (it is created after startTelemetry). */
const httpServerSpans = () =>
  new FastifyOtelInstrumentation({
    instrumentHooks: false,
    ignorePaths: (route: { url?: string }) => UNTRACED_PATHS.has(route.url ?? ""),
    // Named as the HTTP conventions name server spans: method and route template.
    requestHook: (span, request) => span.updateName(`${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`),
  });

/**
 * The HTTP shell every route plugin is registered into: auth, per-key rate limit, errors as
 * `{error:{code,message}}`, the OpenAPI document and the ops endpoints.
 */
export const createHttpApp = async (options: HttpAppOptions) => {
  const app = Fastify({
    loggerInstance: options.logger as unknown as FastifyBaseLogger,
    // Uploads stream for as long as they take; keep-alive sockets of pollers stay open.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    trustProxy: true,
  }).withTypeProvider<ZodTypeProvider>();
  // First, so every route is wrapped: a SERVER span per request (`POST /v1/calls`), the parent of the
  // call's Postgres and S3 spans and of every event its outbox rows carry. Probes and scrapes are not traced.
  await app.register(httpServerSpans().plugin());
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  registerErrorHandling(app);
  registerAuth(app, options.apiKeys);
  await app.register(rateLimit, {
    global: true,
    max: options.rateLimitPerMinute,
    timeWindow: 60_000,
    // After auth, so the limit is per API key; public routes (webhooks) are limited per address.
    hook: "preHandler",
    keyGenerator: (request) => request.principal?.keyId ?? `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) =>
      new ApiError(429, "rate_limited", `more than ${context.max} requests per minute with this key; retry in ${Math.ceil(context.ttl / 1000)} s`, {
        "retry-after": String(Math.ceil(context.ttl / 1000)),
      }),
  });
  await registerOpenApi(app, { version: options.version ?? "1.0.0", publicUrl: options.publicUrl });
  registerOpsRoutes(app, options.ops);
  return app;
};
