import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db } from "@callflow/db";
import { errorResponses } from "../http/api-error.ts";
import { isAdmin, principalOf } from "../http/auth.ts";

const meView = z.object({
  tenant: z.object({ id: z.uuid(), name: z.string() }),
  key: z.object({ id: z.uuid(), name: z.string(), prefix: z.string().describe("The key's first characters, as operators see it"), scopes: z.array(z.string()) }),
  admin: z.boolean().describe('The key holds the "admin" scope: the /v1/admin endpoints answer it'),
});

/**
 * GET /v1/me: whose key this is. A client checks a key with it before using it (the console's sign-in)
 * and learns whether the admin endpoints will answer, instead of trying one and reading a 403.
 */
export const meRoutes =
  (deps: { db: Db }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/me",
      {
        schema: {
          summary: "The calling API key: its tenant, name, prefix and scopes, and whether it is an admin key",
          tags: ["keys"],
          response: { 200: meView, ...errorResponses(401, 429) },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const key = await deps.db.apiKey.findUniqueOrThrow({
          where: { id: principal.keyId },
          select: { id: true, name: true, prefix: true, tenant: { select: { id: true, name: true } } },
        });
        return { tenant: key.tenant, key: { id: key.id, name: key.name, prefix: key.prefix, scopes: [...principal.scopes] }, admin: isAdmin(principal) };
      },
    );
  };
