import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db } from "@callflow/db";
import { e164Of } from "../dials/dial-request.ts";
import { addToDoNotCall, listDoNotCall, removeFromDoNotCall } from "../dials/do-not-call.ts";
import { doNotCallEntryView } from "../dials/views.ts";
import { errorResponses } from "../http/api-error.ts";
import { principalOf, tenantOf } from "../http/auth.ts";
import { pageQuery, pageRequestOf } from "../http/pages.ts";

/** The tenant's do-not-call list: POST /v1/dnc, GET /v1/dnc, DELETE /v1/dnc/{number}. */
export const dncRoutes =
  (deps: { db: Db }): FastifyPluginAsyncZod =>
  async (app) => {
    const changeOf = (request: Parameters<typeof principalOf>[0], number: string) => {
      const principal = principalOf(request);
      return { tenantId: principal.tenantId, number: e164Of(number, "number"), actor: `api-key:${principal.keyId}` };
    };

    app.post(
      "/v1/dnc",
      {
        schema: {
          summary: "Put a number on the tenant's do-not-call list: dial requests to it answer 422 do_not_call",
          tags: ["do-not-call"],
          body: z.object({ number: z.string().max(64).describe("In international form; stored as E.164") }),
          response: { 200: doNotCallEntryView.describe("Already listed"), 201: doNotCallEntryView.describe("Listed"), ...errorResponses(400, 401, 429) },
        },
      },
      async (request, reply) => {
        const { entry, created } = await addToDoNotCall(deps.db, changeOf(request, request.body.number));
        return reply.code(created ? 201 : 200).send(entry);
      },
    );

    app.get(
      "/v1/dnc",
      {
        schema: {
          summary: "The tenant's do-not-call list, newest first",
          tags: ["do-not-call"],
          querystring: z.object(pageQuery),
          response: { 200: z.object({ items: z.array(doNotCallEntryView), nextCursor: z.string().nullable() }), ...errorResponses(400, 401, 429) },
        },
      },
      async (request) => listDoNotCall(deps.db, tenantOf(request), pageRequestOf(request.query)),
    );

    app.delete(
      "/v1/dnc/:number",
      {
        schema: {
          summary: "Take a number off the tenant's do-not-call list",
          tags: ["do-not-call"],
          params: z.object({ number: z.string().describe("E.164; encode the + as %2B") }),
          response: { 204: z.null().describe("Removed"), ...errorResponses(400, 401, 404, 429) },
        },
      },
      async (request, reply) => {
        await removeFromDoNotCall(deps.db, changeOf(request, request.params.number));
        return reply.code(204).send(null);
      },
    );
  };
