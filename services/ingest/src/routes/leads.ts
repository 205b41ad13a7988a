import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db, Prisma } from "@callflow/db";
import { errorResponses, notFound } from "../http/api-error.ts";
import { tenantOf } from "../http/auth.ts";
import { pageOf, pageQuery, pageRequestOf, pageWindow } from "../http/pages.ts";
import { leadIdOf } from "./route-deps.ts";

const leadView = z.object({
  id: z.uuid(),
  callId: z.uuid().describe("The completed call the lead was read from"),
  dialId: z.uuid().nullable().describe("The dial that placed the call, for outbound calls"),
  direction: z.enum(["outbound", "inbound"]),
  from: z.string().nullable(),
  to: z.string().nullable(),
  callerName: z.string().nullable(),
  callbackNumber: z.string().nullable(),
  intent: z.string().nullable(),
  followUpDate: z.string().nullable().describe("YYYY-MM-DD"),
  summaryRevision: z.number().int().describe("The summary revision the fields come from; a summary re-run updates the lead"),
  createdAt: z.string(),
  updatedAt: z.string(),
});

type LeadRow = Prisma.LeadGetPayload<object>;

const view = (lead: LeadRow): z.infer<typeof leadView> => ({
  id: lead.id,
  callId: lead.callId,
  dialId: lead.dialId,
  direction: lead.direction === "outbound" ? "outbound" : "inbound",
  from: lead.fromNumber,
  to: lead.toNumber,
  callerName: lead.callerName,
  callbackNumber: lead.callbackNumber,
  intent: lead.intent,
  followUpDate: lead.followUpDate,
  summaryRevision: lead.summaryRevision,
  createdAt: lead.createdAt.toISOString(),
  updatedAt: lead.updatedAt.toISOString(),
});

/** GET /v1/leads and /v1/leads/{id}: the leads completed calls produced (services/summary makes them). */
export const leadRoutes =
  (deps: { db: Db }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/leads",
      {
        schema: {
          summary: "The tenant's leads, newest first",
          tags: ["leads"],
          querystring: z.object({ direction: z.enum(["outbound", "inbound"]).optional(), ...pageQuery }),
          response: { 200: z.object({ items: z.array(leadView), nextCursor: z.string().nullable() }), ...errorResponses(400, 401, 429) },
        },
      },
      async (request) => {
        const filters = pageRequestOf(request.query);
        const window = pageWindow(filters);
        const where: Prisma.LeadWhereInput = { tenantId: tenantOf(request), ...(request.query.direction ? { direction: request.query.direction } : {}), ...window.where };
        return pageOf(await deps.db.lead.findMany({ ...window, where }), filters.limit, view);
      },
    );

    app.get(
      "/v1/leads/:id",
      {
        schema: { summary: "One lead", tags: ["leads"], params: z.object({ id: z.string() }), response: { 200: leadView, ...errorResponses(401, 404, 429) } },
      },
      async (request) => {
        const id = leadIdOf(request.params);
        const lead = await deps.db.lead.findFirst({ where: { id, tenantId: tenantOf(request) } });
        if (!lead) throw notFound("lead", id);
        return view(lead);
      },
    );
  };
