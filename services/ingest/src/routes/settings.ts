import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db } from "@callflow/db";
import { errorResponses } from "../http/api-error.ts";
import { principalOf, tenantOf } from "../http/auth.ts";

const settingsView = z.object({
  redactPii: z
    .boolean()
    .describe(
      "Store transcripts and summaries with names, phone numbers, emails, card and account numbers replaced by [PERSON_NAME], [PHONE_NUMBER], [EMAIL_ADDRESS], [CREDIT_CARD_NUMBER], [ACCOUNT_NUMBER]. Applies to calls uploaded from now on; an upload may override it (redactPii)",
    ),
  leadMode: z
    .enum(["off", "dials", "all"])
    .describe("Which completed calls become leads (GET /v1/leads): none, those placed by a dial (the default), or every call"),
});

const SETTINGS = { redactPii: true, leadMode: true } as const;

/**
 * The tenant's own settings: GET and PATCH /v1/settings. The tenant's webhook endpoint has its own
 * route (/v1/notifications/endpoint), since setting it answers a secret. Every change is audited.
 */
export const settingsRoutes =
  (deps: { db: Db }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/settings",
      {
        schema: {
          summary: "The tenant's settings",
          tags: ["settings"],
          response: { 200: settingsView, ...errorResponses(401, 429) },
        },
      },
      async (request) => deps.db.tenant.findUniqueOrThrow({ where: { id: tenantOf(request) }, select: SETTINGS }),
    );

    app.patch(
      "/v1/settings",
      {
        schema: {
          summary: "Change the tenant's settings; fields left out keep their value",
          tags: ["settings"],
          body: settingsView.partial(),
          response: { 200: settingsView, ...errorResponses(400, 401, 429) },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const tenantId = principal.tenantId;
        return deps.db.$transaction(async (tx) => {
          const before = await tx.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: SETTINGS });
          const after = await tx.tenant.update({ where: { id: tenantId }, data: request.body, select: SETTINGS });
          if (before.redactPii !== after.redactPii || before.leadMode !== after.leadMode) {
            await tx.auditEntry.create({
              data: { actor: `api-key:${principal.keyId}`, action: "settings.update", entityType: "tenant", entityId: tenantId, tenantId, reason: "changed through the API", before, after },
            });
          }
          return after;
        });
      },
    );
  };
