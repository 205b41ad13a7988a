import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db } from "@callflow/db";
import { errorResponses } from "../http/api-error.ts";
import { tenantOf } from "../http/auth.ts";
import { iso } from "../calls/views.ts";

const notificationView = z.object({
  id: z.uuid(),
  callId: z.uuid().nullable(),
  event: z.string(),
  url: z.string(),
  status: z.enum(["pending", "delivered", "failed"]),
  attempt: z.number().int(),
  lastAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  responseStatus: z.number().int().nullable(),
  error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
  createdAt: z.string(),
});

/** The tenant's webhook endpoint, and every notification sent to it with its last error. */
export const notificationRoutes =
  (deps: { db: Db }): FastifyPluginAsyncZod =>
  async (app) => {
    app.put(
      "/v1/notifications/endpoint",
      {
        schema: {
          summary: "Set the URL called on terminal call states; answers a new signing secret, shown once",
          tags: ["notifications"],
          body: z.object({ url: z.url({ protocol: /^https?$/ }) }),
          response: { 200: z.object({ url: z.string(), secret: z.string().describe("HMAC-SHA256 key of the Callflow-Signature header") }), ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        const secret = `whsec_${randomBytes(24).toString("base64url")}`;
        await deps.db.tenant.update({ where: { id: tenantOf(request) }, data: { webhookUrl: request.body.url, webhookSecret: secret } });
        return { url: request.body.url, secret };
      },
    );

    app.get(
      "/v1/notifications",
      {
        schema: {
          summary: "Notifications sent to the tenant's webhook, newest first, with delivery status and last error",
          tags: ["notifications"],
          querystring: z.object({
            callId: z.uuid().optional(),
            status: z.enum(["pending", "delivered", "failed"]).optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
          }),
          response: { 200: z.object({ items: z.array(notificationView) }), ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        const { callId, status, limit } = request.query;
        const rows = await deps.db.notification.findMany({
          where: { tenantId: tenantOf(request), ...(callId ? { callId } : {}), ...(status ? { status } : {}) },
          orderBy: { createdAt: "desc" },
          take: limit,
        });
        return {
          items: rows.map((row) => ({
            id: row.id,
            callId: row.callId,
            event: row.event,
            url: row.url,
            status: row.status,
            attempt: row.attempt,
            lastAttemptAt: iso(row.lastAttemptAt),
            deliveredAt: iso(row.deliveredAt),
            responseStatus: row.responseStatus,
            error: row.errorCode ? { code: row.errorCode, message: row.errorMessage } : null,
            createdAt: row.createdAt.toISOString(),
          })),
        };
      },
    );
  };
