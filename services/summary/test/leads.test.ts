import { decodeEvent, topology } from "@callflow/contracts";
import type { Db, LeadMode } from "@callflow/db";
import { describe, expect, test } from "@callflow/testkit";
import { createLeadFromCall } from "../src/leads/create-lead.ts";

const t = topology();
const quiet = { info: () => undefined };
const leadOf = (db: Db) => createLeadFromCall({ db, topology: t, logger: quiet });

const content = (callerName: string) => ({
  summary: "A customer asked for a callback.",
  keyPoints: [],
  actionItems: [],
  sentiment: "neutral",
  fields: { callerName, intent: "callback", followUpDate: "2026-12-09", callbackNumber: "415 555 0199" },
});

/** A completed call with a summary; from a dial when `fromDial`. */
const seedCompletedCall = async (db: Db, options: { leadMode?: LeadMode; fromDial: boolean; webhookUrl?: string }) => {
  const tenant = await db.tenant.create({ data: { name: "leads", leadMode: options.leadMode ?? "dials", webhookUrl: options.webhookUrl ?? null, webhookSecret: options.webhookUrl ? "test-secret" : null } });
  const call = await db.call.create({ data: { tenantId: tenant.id, status: "completed", source: options.fromDial ? "dial" : "upload", completedAt: new Date() } });
  const transcript = await db.transcript.create({ data: { tenantId: tenant.id, callId: call.id, audioVersion: 1, text: "hello", segments: [] } });
  await db.summary.create({ data: { tenantId: tenant.id, callId: call.id, transcriptId: transcript.id, revision: 1, model: "extractive", content: content("Sarah") } });
  const dial = options.fromDial ? await db.dial.create({ data: { tenantId: tenant.id, toNumber: "+14155550001", fromNumber: "+15550100000", status: "completed", attempt: 1, callId: call.id } }) : null;
  return { tenantId: tenant.id, callId: call.id, transcriptId: transcript.id, dialId: dial?.id ?? null };
};

const request = (seed: { tenantId: string; callId: string }) => ({ $typeName: "callflow.events.v1.LeadRequested" as const, tenantId: seed.tenantId, callId: seed.callId });

describe("a completed call becomes a lead", () => {
  test("once, with the dial's numbers and the summary's fields; delivered again it changes nothing; a summary re-run updates it", async ({ database: { db } }) => {
    const seed = await seedCompletedCall(db, { fromDial: true, webhookUrl: "http://127.0.0.1:9/hook" });
    const handle = leadOf(db);

    const first = await handle(request(seed));
    expect(first.result).toMatchObject({ kind: "created" });
    expect(await db.lead.findUniqueOrThrow({ where: { callId: seed.callId } })).toMatchObject({
      dialId: seed.dialId,
      direction: "outbound",
      toNumber: "+14155550001",
      fromNumber: "+15550100000",
      callerName: "Sarah",
      callbackNumber: "415 555 0199",
      intent: "callback",
      followUpDate: "2026-12-09",
      summaryRevision: 1,
    });
    const leadId = first.result.kind === "created" ? first.result.leadId : "";
    expect(await db.dial.findUniqueOrThrow({ where: { id: seed.dialId! } })).toMatchObject({ leadId });

    expect((await handle(request(seed))).result).toEqual({ kind: "skipped", reason: "up_to_date" });

    await db.summary.create({ data: { tenantId: seed.tenantId, callId: seed.callId, transcriptId: seed.transcriptId, revision: 2, model: "extractive", content: content("Sarah Lee") } });
    expect((await handle(request(seed))).result).toEqual({ kind: "updated", leadId });
    expect(await db.lead.findMany({ where: { callId: seed.callId } })).toEqual([expect.objectContaining({ id: leadId, callerName: "Sarah Lee", summaryRevision: 2 })]);

    const webhooks = await db.notification.findMany({ where: { tenantId: seed.tenantId } });
    expect(webhooks.map((row) => row.event)).toEqual(["lead.created"]);
    expect(webhooks[0]!.payload).toMatchObject({ event: "lead.created", data: { id: leadId, callId: seed.callId, direction: "outbound" } });
    const announced = (await db.outboxEvent.findMany({ where: { subject: t.subject("notificationRequested") } })).map((row) => decodeEvent("notificationRequested", row.payload));
    expect(announced.map((event) => event.notificationId)).toEqual([webhooks[0]!.id]);
  });

  test("by the tenant's setting: calls from a dial by default, every call with `all`, none with `off`", async ({ database: { db } }) => {
    const handle = leadOf(db);
    expect((await handle(request(await seedCompletedCall(db, { fromDial: false })))).result).toEqual({ kind: "skipped", reason: "not_from_a_dial" });
    const inbound = await seedCompletedCall(db, { fromDial: false, leadMode: "all" });
    expect((await handle(request(inbound))).result).toMatchObject({ kind: "created" });
    expect(await db.lead.findUniqueOrThrow({ where: { callId: inbound.callId } })).toMatchObject({ direction: "inbound", dialId: null });
    expect((await handle(request(await seedCompletedCall(db, { fromDial: true, leadMode: "off" })))).result).toEqual({ kind: "skipped", reason: "leads_off" });
  });

  test("a call that is not completed makes no lead", async ({ database: { db } }) => {
    const seed = await seedCompletedCall(db, { fromDial: true });
    await db.call.update({ where: { id: seed.callId }, data: { status: "processing" } });
    expect((await leadOf(db)(request(seed))).result).toEqual({ kind: "skipped", reason: "not_completed" });
    expect(await db.lead.count()).toBe(0);
  });
});
