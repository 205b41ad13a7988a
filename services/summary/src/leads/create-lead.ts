import type { LeadRequested, Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { enqueueLeadNotification } from "@callflow/call-lifecycle";
import { ack, commitWithEvents, type AckOutcome, type OutboxRelay } from "@callflow/messaging";
import type { Logger } from "@callflow/telemetry";
import { summaryContent } from "../summarizers/summary-content.ts";

export interface CreateLeadDeps {
  db: Db;
  topology: Topology;
  relay?: Pick<OutboxRelay, "publishNow"> | undefined;
  logger: Pick<Logger, "info">;
}

/** What one `leadRequested` did. */
export type LeadResult =
  | { kind: "created" | "updated"; leadId: string }
  | { kind: "skipped"; reason: "unknown_call" | "not_completed" | "leads_off" | "not_from_a_dial" | "no_summary" | "up_to_date" };

/**
 * A completed call becomes a lead, once (`leads.call_id` is unique): the job carries the call's id and
 * loads the rest — the tenant's setting (`lead_mode`: every call, calls from a dial (the default), or
 * none), the dial that placed it, the numbers, and the extracted fields of the call's latest summary.
 * A later summary revision (a re-run) updates the lead instead of making a second; a redelivered job
 * changes nothing. A new lead sets the dial's `lead_id` and queues the customer webhook `lead.created`
 * in the same transaction.
 */
export const createLeadFromCall = (deps: CreateLeadDeps) => async (event: LeadRequested): Promise<AckOutcome & { readonly result: LeadResult }> => {
  const result = await commitWithEvents(
    deps.db,
    deps.topology,
    async (tx, emit): Promise<LeadResult> => {
      const call = await tx.call.findFirst({ where: { id: event.callId, tenantId: event.tenantId }, select: { status: true, audioVersion: true, tenant: { select: { leadMode: true } } } });
      if (!call) return { kind: "skipped", reason: "unknown_call" };
      if (call.status !== "completed") return { kind: "skipped", reason: "not_completed" };
      if (call.tenant.leadMode === "off") return { kind: "skipped", reason: "leads_off" };
      const dial = await tx.dial.findFirst({ where: { callId: event.callId, tenantId: event.tenantId }, select: { id: true, toNumber: true, fromNumber: true } });
      if (!dial && call.tenant.leadMode === "dials") return { kind: "skipped", reason: "not_from_a_dial" };
      const summary = await tx.summary.findFirst({ where: { callId: event.callId, transcript: { audioVersion: call.audioVersion } }, orderBy: { revision: "desc" }, select: { revision: true, content: true } });
      if (!summary) return { kind: "skipped", reason: "no_summary" };
      const parsed = summaryContent.safeParse(summary.content);
      const fields = parsed.success ? parsed.data.fields : { callerName: null, intent: null, followUpDate: null, callbackNumber: null };
      const data = {
        dialId: dial?.id ?? null,
        direction: dial ? "outbound" : "inbound",
        fromNumber: dial?.fromNumber ?? null,
        toNumber: dial?.toNumber ?? null,
        callerName: fields.callerName,
        callbackNumber: fields.callbackNumber,
        intent: fields.intent,
        followUpDate: fields.followUpDate,
        summaryRevision: summary.revision,
      };

      const existing = await tx.lead.findUnique({ where: { callId: event.callId }, select: { id: true, summaryRevision: true } });
      if (existing) {
        if (existing.summaryRevision >= summary.revision) return { kind: "skipped", reason: "up_to_date" };
        await tx.lead.update({ where: { id: existing.id }, data });
        return { kind: "updated", leadId: existing.id };
      }
      const lead = await tx.lead.create({ data: { tenantId: event.tenantId, callId: event.callId, ...data } });
      if (dial) await tx.dial.update({ where: { id: dial.id }, data: { leadId: lead.id } });
      await enqueueLeadNotification(tx, emit, {
        tenantId: event.tenantId,
        callId: event.callId,
        lead: { id: lead.id, callId: lead.callId, ...data, createdAt: lead.createdAt.toISOString() },
      });
      return { kind: "created", leadId: lead.id };
    },
    deps.relay,
  );
  if (result.kind !== "skipped") deps.logger.info({ callId: event.callId, ...result }, `lead ${result.kind}`);
  return { ...ack(), result };
};
