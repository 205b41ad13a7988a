import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db } from "@callflow/db";
import { DeadLetterNotFoundError, DeadLetterNotReplayableError, replayDeadLetter, type OutboxPublisher } from "@callflow/messaging";
import { ADMIN_SCOPE } from "../auth/api-keys.ts";
import { ApiError, errorResponses } from "../http/api-error.ts";
import { iso } from "../calls/views.ts";

/** Operator endpoints (the `admin` scope): they look across tenants, so no tenant key has them by default. */
export const adminRoutes =
  (deps: { db: Db; publisher: OutboxPublisher }): FastifyPluginAsyncZod =>
  async (app) => {
    const config = { scope: ADMIN_SCOPE };

    app.get(
      "/v1/admin/audit",
      {
        config,
        schema: {
          summary: "What the reaper and operators did, newest first",
          tags: ["admin"],
          querystring: z.object({ entityId: z.string().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
          response: {
            200: z.object({
              items: z.array(
                z.object({ id: z.string(), at: z.string(), actor: z.string(), action: z.string(), entityType: z.string(), entityId: z.string(), tenantId: z.string().nullable(), reason: z.string(), before: z.unknown(), after: z.unknown() }),
              ),
            }),
            ...errorResponses(401, 403),
          },
        },
      },
      async (request) => {
        const rows = await deps.db.auditEntry.findMany({
          where: request.query.entityId ? { entityId: request.query.entityId } : {},
          orderBy: { at: "desc" },
          take: request.query.limit,
        });
        return { items: rows.map((row) => ({ ...row, at: row.at.toISOString() })) };
      },
    );

    app.get(
      "/v1/admin/dead-letters",
      {
        config,
        schema: {
          summary: "Messages no consumer could process, with their error, newest first",
          tags: ["admin"],
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  id: z.string(),
                  stream: z.string(),
                  consumer: z.string(),
                  subject: z.string(),
                  streamSequence: z.number(),
                  deliveryCount: z.number().int(),
                  reason: z.string(),
                  error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
                  entityType: z.string().nullable(),
                  entityId: z.string().nullable(),
                  tenantId: z.string().nullable(),
                  createdAt: z.string(),
                  replayCount: z.number().int(),
                  replayedAt: z.string().nullable(),
                }),
              ),
            }),
            ...errorResponses(401, 403),
          },
        },
      },
      async (request) => {
        const rows = await deps.db.deadLetter.findMany({ orderBy: { createdAt: "desc" }, take: request.query.limit });
        return {
          items: rows.map((row) => ({
            id: row.id,
            stream: row.stream,
            consumer: row.consumer,
            subject: row.subject,
            streamSequence: Number(row.streamSequence),
            deliveryCount: row.deliveryCount,
            reason: row.reason,
            error: row.errorCode ? { code: row.errorCode, message: row.errorMessage } : null,
            entityType: row.entityType,
            entityId: row.entityId,
            tenantId: row.tenantId,
            createdAt: row.createdAt.toISOString(),
            replayCount: row.replayCount,
            replayedAt: iso(row.replayedAt),
          })),
        };
      },
    );

    app.post(
      "/v1/admin/dead-letters/:id/replay",
      {
        config,
        schema: {
          summary: "Publish a dead letter's original message again",
          tags: ["admin"],
          params: z.object({ id: z.string() }),
          response: { 202: z.object({ streamSequence: z.number() }), ...errorResponses(401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        try {
          const streamSequence = await replayDeadLetter(deps, request.params.id);
          return reply.code(202).send({ streamSequence });
        } catch (error) {
          if (error instanceof DeadLetterNotFoundError) throw new ApiError(404, "dead_letter_not_found", error.message);
          if (error instanceof DeadLetterNotReplayableError) throw new ApiError(409, "dead_letter_not_replayable", error.message);
          throw error;
        }
      },
    );
  };
