import type { Db, DialPriority, DialStatus, Prisma } from "@callflow/db";
import { errorOf, iso } from "../calls/views.ts";
import { notFound } from "../http/api-error.ts";
import { pageOf, pageWindow, type PageRequest } from "../http/pages.ts";
import type { DialSummaryView, DialView } from "./views.ts";

/** Reads of dials, always through the tenant: another tenant's dial does not exist (404, never 403). */

type DialRow = Prisma.DialGetPayload<object>;

const summarize = (dial: DialRow): DialSummaryView => ({
  id: dial.id,
  status: dial.status,
  to: dial.toNumber,
  from: dial.fromNumber,
  campaign: dial.campaign,
  priority: dial.priority,
  leadId: dial.leadId,
  attempt: dial.attempt,
  maxAttempts: dial.maxAttempts,
  notBefore: iso(dial.notBefore),
  calleeTimezone: dial.calleeTimezone,
  nextAttemptAt: dial.nextAttemptAt.toISOString(),
  providerCallId: dial.providerCallId,
  callId: dial.callId,
  error: errorOf(dial.errorCode, dial.errorMessage),
  createdAt: dial.createdAt.toISOString(),
  updatedAt: dial.updatedAt.toISOString(),
  startedAt: iso(dial.startedAt),
  finishedAt: iso(dial.finishedAt),
});

export const dialDetail = async (db: Db, tenantId: string, dialId: string): Promise<DialView> => {
  const dial = await db.dial.findFirst({ where: { id: dialId, tenantId }, include: { events: { orderBy: { seq: "asc" } } } });
  if (!dial) throw notFound("dial", dialId);
  return {
    ...summarize(dial),
    metadata: (dial.metadata ?? {}) as Record<string, unknown>,
    timeline: dial.events.map((event) => ({ status: event.status, attempt: event.attempt, at: event.at.toISOString(), errorCode: event.errorCode, detail: event.detail })),
  };
};

export interface DialFilters extends PageRequest {
  status?: DialStatus | undefined;
  campaign?: string | undefined;
  priority?: DialPriority | undefined;
}

/** Newest first, in cursor pages. */
export const listDials = async (db: Db, tenantId: string, filters: DialFilters): Promise<{ items: DialSummaryView[]; nextCursor: string | null }> => {
  const window = pageWindow(filters);
  const where: Prisma.DialWhereInput = {
    tenantId,
    ...(filters.status ? { status: filters.status } : {}),
    ...(filters.campaign ? { campaign: filters.campaign } : {}),
    ...(filters.priority ? { priority: filters.priority } : {}),
    ...window.where,
  };
  return pageOf(await db.dial.findMany({ ...window, where }), filters.limit, summarize);
};
