import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db, Prisma } from "@callflow/db";
import type { Commit } from "../calls/commit.ts";
import { cancelDial } from "../dials/cancel-dial.ts";
import { e164Of, timezoneOf } from "../dials/dial-request.ts";
import { dialDetail, listDials } from "../dials/queries.ts";
import { requestDial } from "../dials/request-dial.ts";
import { dialAcceptedView, dialPriority, dialStatus, dialSummaryView, dialView } from "../dials/views.ts";
import { errorResponses } from "../http/api-error.ts";
import { principalOf, tenantOf } from "../http/auth.ts";
import { pageQuery, pageRequestOf } from "../http/pages.ts";
import { dialIdOf } from "./route-deps.ts";

const dialRequestBody = z.object({
  to: z.string().max(64).describe("The callee in international form; stored as E.164 (+14155552671)"),
  from: z.string().max(64).optional().describe("The caller id, in international form"),
  campaign: z.string().min(1).max(200).optional().describe("With the number, what makes two requests the same dial while one is active"),
  priority: dialPriority.default("normal"),
  notBefore: z.iso.datetime({ offset: true }).optional().describe("Not dialled before this time"),
  calleeTimezone: z.string().max(64).optional().describe("The callee's IANA time zone (America/New_York): the tenant's call window is read in it"),
  metadata: z.record(z.string(), z.unknown()).optional().describe("A JSON object stored with the dial"),
  maxAttempts: z
    .number()
    .int()
    .min(1)
    .max(10)
    .optional()
    .describe("The campaign's retry policy: calls a busy or unanswered dial gets in all, CALLFLOW_DIALER_RETRY_SPACING_MS apart (default 1)"),
});

/** POST /v1/dials and /v1/dials/{id}/cancel, GET /v1/dials and /v1/dials/{id}. */
export const dialRoutes =
  (deps: { db: Db; commit: Commit }): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      "/v1/dials",
      {
        schema: {
          summary: "Request an outbound call; answered once the dial is durably queued for the dialer",
          tags: ["dials"],
          headers: z.object({
            "idempotency-key": z.string().min(1).max(255).optional().describe("A replay of a request with this key answers the dial the first one made"),
          }),
          body: dialRequestBody,
          response: {
            200: dialAcceptedView.describe("The same request was made before (same Idempotency-Key, or a dial to this number in this campaign is active): the dial it made"),
            202: dialAcceptedView.describe("Queued: the dialer takes it from here"),
            ...errorResponses(400, 401, 409, 422, 429),
          },
        },
      },
      async (request, reply) => {
        const { body } = request;
        const answer = await requestDial(deps.commit, {
          tenantId: tenantOf(request),
          toNumber: e164Of(body.to, "to"),
          fromNumber: body.from === undefined ? null : e164Of(body.from, "from"),
          campaign: body.campaign ?? null,
          priority: body.priority,
          notBefore: body.notBefore ? new Date(body.notBefore) : null,
          calleeTimezone: body.calleeTimezone === undefined ? null : timezoneOf(body.calleeTimezone),
          metadata: (body.metadata ?? {}) as Prisma.InputJsonObject,
          idempotencyKey: request.headers["idempotency-key"] ?? null,
          maxAttempts: body.maxAttempts,
        });
        return reply
          .code(answer.created ? 202 : 200)
          .header("location", `/v1/dials/${answer.dial.id}`)
          .send(answer.dial);
      },
    );

    app.get(
      "/v1/dials/:id",
      {
        schema: {
          summary: "A dial's status, timeline, attempt, provider call id, error, and the call its recording became",
          tags: ["dials"],
          params: z.object({ id: z.string() }),
          response: { 200: dialView, ...errorResponses(401, 404, 429) },
        },
      },
      async (request) => dialDetail(deps.db, tenantOf(request), dialIdOf(request.params)),
    );

    app.get(
      "/v1/dials",
      {
        schema: {
          summary: "The tenant's dials, newest first",
          tags: ["dials"],
          querystring: z.object({ status: dialStatus.optional(), campaign: z.string().optional(), priority: dialPriority.optional(), ...pageQuery }),
          response: { 200: z.object({ items: z.array(dialSummaryView), nextCursor: z.string().nullable() }), ...errorResponses(400, 401, 429) },
        },
      },
      async (request) => {
        const { status, campaign, priority } = request.query;
        return listDials(deps.db, tenantOf(request), { status, campaign, priority, ...pageRequestOf(request.query) });
      },
    );

    app.post(
      "/v1/dials/:id/cancel",
      {
        schema: {
          summary: "Cancel an active dial; a finished one answers 409 dial_finished",
          tags: ["dials"],
          params: z.object({ id: z.string() }),
          response: { 200: dialAcceptedView, ...errorResponses(401, 404, 409, 429) },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        return cancelDial(deps.commit, { tenantId: principal.tenantId, dialId: dialIdOf(request.params), actor: `api-key:${principal.keyId}` });
      },
    );
  };
