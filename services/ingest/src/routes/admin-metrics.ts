import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db } from "@callflow/db";
import { ADMIN_SCOPE } from "../auth/api-keys.ts";
import { errorResponses } from "../http/api-error.ts";
import { METRIC_STAGES, metricsRangeOf, pipelineMetrics } from "../operations/pipeline-metrics.ts";

const perStage = <T extends z.ZodType>(value: T) => z.object(Object.fromEntries(METRIC_STAGES.map((stage) => [stage, value])) as Record<(typeof METRIC_STAGES)[number], T>);

/** GET /v1/admin/metrics: the operations charts' series over a chosen time range. */
export const adminMetricsRoutes =
  (deps: { db: Db }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/admin/metrics",
      {
        config: { scope: ADMIN_SCOPE },
        schema: {
          summary: "Calls per bucket, stage latency p99 and the work waiting for each consumer, over a time range, across tenants",
          description:
            "Computed from Postgres. `waiting` counts the chunks (transcription) and stage runs (merge, summary) queued and not yet taken by a worker at each bucket's end; " +
            "for the past it reads each row's current times, so work re-driven since shows its latest attempt.",
          tags: ["admin"],
          querystring: z.object({
            from: z.iso.datetime({ offset: true }).optional().describe("Default: an hour before `to`"),
            to: z.iso.datetime({ offset: true }).optional().describe("Default and latest: now"),
            stepSeconds: z.coerce.number().int().min(10).optional().describe("Bucket length; default whole minutes giving at most 120 points"),
          }),
          response: {
            200: z.object({
              from: z.string(),
              to: z.string(),
              stepSeconds: z.number().int(),
              points: z.array(
                z.object({
                  at: z.string().describe("The bucket's start"),
                  calls: z.object({ created: z.number().int(), completed: z.number().int(), failed: z.number().int() }),
                  latencyP99Seconds: perStage(z.number().nullable()).describe("Queued → finished, of the stage runs that succeeded in the bucket"),
                  waiting: perStage(z.number().int()).describe("Queued work not yet taken by a worker at the bucket's end"),
                }),
              ),
            }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => {
        const range = metricsRangeOf(request.query);
        return { from: range.from.toISOString(), to: range.to.toISOString(), stepSeconds: range.stepSeconds, points: await pipelineMetrics(deps.db, range) };
      },
    );
  };
