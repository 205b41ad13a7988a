import { decodeEvent } from "@callflow/contracts";
import { waitFor } from "@callflow/testkit";
import { describe, expect, test, type IngestUnderTest } from "./support/ingest-fixture.ts";

const MINUTE = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms);
// Response bodies as the tests read them; the routes' zod schemas are what guarantee their shape.
type Json = Record<string, unknown> & { items: Record<string, unknown>[]; nextCursor: string | null; timeline: Record<string, unknown>[] };

const requestDial = (ingest: IngestUnderTest, body: Record<string, unknown>, options: { key?: string; idempotencyKey?: string } = {}) =>
  ingest.api("/v1/dials", {
    method: "POST",
    headers: { "content-type": "application/json", ...(options.idempotencyKey ? { "idempotency-key": options.idempotencyKey } : {}) },
    body: JSON.stringify(body),
    ...(options.key ? { key: options.key } : {}),
  });

const answer = async (response: Response) => ({ status: response.status, body: (await response.json()) as Json });

/** The dialRequested rows in the outbox, decoded. */
const requestedInOutbox = async (ingest: IngestUnderTest) => {
  const rows = await ingest.db.outboxEvent.findMany({ where: { subject: ingest.topology.subject("dialRequested") }, orderBy: { createdAt: "asc" } });
  return rows.map((row) => decodeEvent("dialRequested", row.payload));
};

describe("POST /v1/dials", () => {
  test("answers 202 only once the dial, its queued timeline row and dialRequested (ids and attempt only) are committed, then publishes it", async ({ ingest }) => {
    const { status, body } = await answer(await requestDial(ingest, { to: "+1 (415) 555-2671", campaign: "renewals", calleeTimezone: "america/los_angeles", metadata: { lead: "L-7" }, maxAttempts: 3 }));
    expect(status).toBe(202);
    expect(body).toEqual({ id: expect.any(String), status: "queued" });
    const dialId = body.id as string;

    // Committed before the answer: nothing here is waited for.
    expect(await ingest.db.dial.findUniqueOrThrow({ where: { id: dialId } })).toMatchObject({
      tenantId: ingest.tenant.tenantId,
      toNumber: "+14155552671",
      campaign: "renewals",
      priority: "normal",
      calleeTimezone: "America/Los_Angeles",
      status: "queued",
      attempt: 0,
      maxAttempts: 3,
      metadata: { lead: "L-7" },
    });
    expect(await ingest.db.dialEvent.findMany({ where: { dialId } })).toEqual([expect.objectContaining({ status: "queued", attempt: 0 })]);
    const queued = await requestedInOutbox(ingest);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ tenantId: ingest.tenant.tenantId, dialId, attempt: 0 });
    // Identities, never arguments (invariant 5): the dialer loads the number from the row.
    expect(Object.keys(queued[0]!).filter((field) => !field.startsWith("$")).sort()).toEqual(["attempt", "dialId", "tenantId"]);

    const published = await waitFor("dialRequested on the dials stream", async () => {
      const events = await ingest.events("dialRequested");
      return events.length > 0 ? events : undefined;
    });
    expect(published).toEqual([expect.objectContaining({ tenantId: ingest.tenant.tenantId, dialId, attempt: 0 })]);
  });

  test("a request whose outbox row cannot be written is refused and leaves no dial behind", async ({ ingest }) => {
    await ingest.db.$executeRawUnsafe(`
      CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox refused by the test'; END $$`);
    await ingest.db.$executeRawUnsafe(`CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_outbox()`);

    const response = await requestDial(ingest, { to: "+14155552671" });
    expect(response.status).toBe(500);
    expect(await ingest.db.dial.count()).toBe(0);
    expect(await ingest.db.dialEvent.count()).toBe(0);
  });

  test("two concurrent identical requests make one dial, and both are answered with it", async ({ ingest }) => {
    const request = { to: "+14155552671", campaign: "renewals" };
    const answers = await Promise.all([requestDial(ingest, request), requestDial(ingest, request)].map(async (response) => answer(await response)));

    expect(answers.map((a) => a.status).sort()).toEqual([200, 202]);
    expect(answers[0]!.body.id).toBe(answers[1]!.body.id);
    expect(await ingest.db.dial.count()).toBe(1);
    expect(await ingest.db.dialEvent.count()).toBe(1);
    expect(await requestedInOutbox(ingest)).toHaveLength(1);

    // Another campaign, or another tenant, is another dial.
    expect((await requestDial(ingest, { ...request, campaign: "winback" })).status).toBe(202);
    expect((await requestDial(ingest, request, { key: ingest.otherTenant.key })).status).toBe(202);
  });

  test("an Idempotency-Key replay answers the same dial, even concurrently and after it finished; the key cannot name another request", async ({ ingest }) => {
    const request = { to: "+14155552671", campaign: "renewals" };
    const first = await Promise.all([1, 2, 3].map(async () => answer(await requestDial(ingest, request, { idempotencyKey: "order-17" }))));
    expect(first.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    const dialId = first[0]!.body.id as string;
    expect(first.every((a) => a.body.id === dialId)).toBe(true);

    await ingest.db.dial.update({ where: { id: dialId }, data: { status: "completed", finishedAt: new Date() } });
    expect(await answer(await requestDial(ingest, request, { idempotencyKey: "order-17" }))).toEqual({ status: 200, body: { id: dialId, status: "completed" } });

    const reused = await answer(await requestDial(ingest, { ...request, to: "+14155552672" }, { idempotencyKey: "order-17" }));
    expect(reused).toMatchObject({ status: 422, body: { error: { code: "idempotency_key_reused" } } });

    // The finished dial no longer holds its number and campaign: a new request is a new dial.
    const again = await answer(await requestDial(ingest, request, { idempotencyKey: "order-18" }));
    expect(again.status).toBe(202);
    expect(again.body.id).not.toBe(dialId);
    expect(await ingest.db.dial.count()).toBe(2);
  });

  test("invalid numbers, time zones and retry policies are 400 and write nothing", async ({ ingest }) => {
    const refused = [
      [{ to: "4155552671" }, "invalid_number"],
      [{ to: "+15550100" }, "invalid_number"],
      [{ to: "+14155552671", from: "not a number" }, "invalid_number"],
      [{ to: "+14155552671", calleeTimezone: "Mars/Olympus_Mons" }, "invalid_timezone"],
      [{ to: "+14155552671", priority: "urgent" }, "invalid_request"],
      [{ to: "+14155552671", notBefore: "tomorrow" }, "invalid_request"],
      [{ to: "+14155552671", maxAttempts: 0 }, "invalid_request"],
      [{ to: "+14155552671", maxAttempts: 11 }, "invalid_request"],
      [{}, "invalid_request"],
    ] as const;
    for (const [body, code] of refused) {
      const response = await answer(await requestDial(ingest, body));
      expect({ sent: body, ...response }).toMatchObject({ status: 400, body: { error: { code } } });
    }
    expect(await ingest.db.dial.count()).toBe(0);
    expect(await ingest.db.outboxEvent.count()).toBe(0);
  });
});

describe("the do-not-call list", () => {
  test("a listed number is refused with 422 do_not_call for its tenant only, until it is taken off; every change is audited", async ({ ingest }) => {
    const listed = await ingest.api("/v1/dnc", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ number: "+1 415-555-2671" }) });
    expect(await answer(listed)).toMatchObject({ status: 201, body: { number: "+14155552671" } });
    const relisted = await ingest.api("/v1/dnc", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ number: "+14155552671" }) });
    expect(relisted.status).toBe(200);
    expect((await answer(await ingest.api("/v1/dnc"))).body.items).toEqual([expect.objectContaining({ number: "+14155552671" })]);
    expect((await answer(await ingest.api("/v1/dnc", { key: ingest.otherTenant.key }))).body.items).toEqual([]);

    expect(await answer(await requestDial(ingest, { to: "+14155552671" }))).toMatchObject({ status: 422, body: { error: { code: "do_not_call" } } });
    expect(await ingest.db.dial.count()).toBe(0);
    expect((await requestDial(ingest, { to: "+14155552671" }, { key: ingest.otherTenant.key })).status).toBe(202);

    expect((await ingest.api("/v1/dnc/%2B14155552671", { method: "DELETE" })).status).toBe(204);
    expect(await answer(await ingest.api("/v1/dnc/+14155552671", { method: "DELETE" }))).toMatchObject({ status: 404, body: { error: { code: "do_not_call_entry_not_found" } } });
    expect((await ingest.api("/v1/dnc/12345", { method: "DELETE" })).status).toBe(400);
    expect((await requestDial(ingest, { to: "+14155552671" })).status).toBe(202);

    const audit = await ingest.db.auditEntry.findMany({ where: { entityType: "do_not_call", tenantId: ingest.tenant.tenantId }, orderBy: { at: "asc" } });
    expect(audit.map((entry) => [entry.action, entry.entityId, entry.actor])).toEqual([
      ["dnc.add", "+14155552671", `api-key:${ingest.tenant.keyId}`],
      ["dnc.remove", "+14155552671", `api-key:${ingest.tenant.keyId}`],
    ]);
  });
});

describe("a dial's status", () => {
  test("shows the timeline, attempt, provider call id, error, call id and lead id; another tenant's dial is 404", async ({ ingest }) => {
    const dialId = (await answer(await requestDial(ingest, { to: "+14155552671", priority: "high" }))).body.id as string;
    // What the dialer will write as the dial moves on.
    const leadId = "6f1c7a52-4f0e-4a43-9d6e-1f7b1c2d3e4f";
    const callId = "0b7d0f3e-2c1a-4a5b-8c9d-0e1f2a3b4c5d";
    await ingest.db.dial.update({
      where: { id: dialId },
      data: { status: "failed", attempt: 1, providerCallId: "CA123", leadId, callId, errorCode: "carrier_rejected", errorMessage: "the carrier refused the number", finishedAt: new Date() },
    });
    await ingest.db.dialEvent.createMany({
      data: [
        { dialId, status: "placing", attempt: 1, at: new Date(Date.now() + 1_000) },
        { dialId, status: "failed", attempt: 1, at: new Date(Date.now() + 2_000), errorCode: "carrier_rejected", detail: "the carrier refused the number" },
      ],
    });

    const detail = await answer(await ingest.api(`/v1/dials/${dialId}`));
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: dialId,
      status: "failed",
      to: "+14155552671",
      priority: "high",
      attempt: 1,
      providerCallId: "CA123",
      callId,
      leadId,
      error: { code: "carrier_rejected", message: "the carrier refused the number" },
    });
    expect(detail.body.timeline.map((row) => [row.status, row.attempt, row.errorCode])).toEqual([
      ["queued", 0, null],
      ["placing", 1, null],
      ["failed", 1, "carrier_rejected"],
    ]);

    for (const path of [`/v1/dials/${dialId}`, `/v1/dials/${dialId}/cancel`]) {
      const other = await ingest.api(path, { key: ingest.otherTenant.key, method: path.endsWith("cancel") ? "POST" : "GET" });
      expect(await answer(other)).toMatchObject({ status: 404, body: { error: { code: "dial_not_found" } } });
    }
    expect((await ingest.api("/v1/dials/not-a-uuid")).status).toBe(404);
  });
});

describe("POST /v1/dials/{id}/cancel", () => {
  test("cancels an active dial with its timeline row and dialStatusChanged; a finished dial answers 409 dial_finished", async ({ ingest }) => {
    const dialId = (await answer(await requestDial(ingest, { to: "+14155552671", campaign: "renewals" }))).body.id as string;
    await ingest.db.dial.update({ where: { id: dialId }, data: { status: "ringing", attempt: 1, providerCallId: "CA1" } });

    const canceled = await answer(await ingest.api(`/v1/dials/${dialId}/cancel`, { method: "POST" }));
    expect(canceled).toEqual({ status: 200, body: { id: dialId, status: "canceled" } });
    expect(await ingest.db.dial.findUniqueOrThrow({ where: { id: dialId } })).toMatchObject({ status: "canceled", finishedAt: expect.any(Date) });
    const timeline = (await answer(await ingest.api(`/v1/dials/${dialId}`))).body.timeline;
    expect(timeline.at(-1)).toMatchObject({ status: "canceled", attempt: 1, detail: `canceled through the API by api-key:${ingest.tenant.keyId}` });
    const changed = await ingest.db.outboxEvent.findMany({ where: { subject: ingest.topology.subject("dialStatusChanged") } });
    expect(changed.map((row) => decodeEvent("dialStatusChanged", row.payload))).toEqual([expect.objectContaining({ dialId, status: "canceled" })]);

    expect(await answer(await ingest.api(`/v1/dials/${dialId}/cancel`, { method: "POST" }))).toMatchObject({ status: 409, body: { error: { code: "dial_finished" } } });
    const completed = (await answer(await requestDial(ingest, { to: "+14155552672" }))).body.id as string;
    await ingest.db.dial.update({ where: { id: completed }, data: { status: "completed" } });
    expect(await answer(await ingest.api(`/v1/dials/${completed}/cancel`, { method: "POST" }))).toMatchObject({ status: 409, body: { error: { code: "dial_finished" } } });
    expect((await ingest.api("/v1/dials/6f1c7a52-4f0e-4a43-9d6e-1f7b1c2d3e4f/cancel", { method: "POST" })).status).toBe(404);
    expect(await ingest.db.outboxEvent.count({ where: { subject: ingest.topology.subject("dialStatusChanged") } })).toBe(1);

    // Canceled frees the number and campaign.
    expect((await requestDial(ingest, { to: "+14155552671", campaign: "renewals" })).status).toBe(202);
  });
});

describe("GET /v1/dials", () => {
  test("filters by status, campaign, priority and creation time, and pages newest first without skipping or repeating", async ({ ingest }) => {
    const make = async (to: string, body: Record<string, unknown> = {}) => (await answer(await requestDial(ingest, { to, ...body }))).body.id as string;
    const a = await make("+14155552670", { campaign: "renewals", priority: "high" });
    const b = await make("+14155552671", { campaign: "renewals" });
    const c = await make("+14155552672", { campaign: "winback", priority: "low" });
    const d = await make("+14155552673");
    const e = await make("+14155552674", { campaign: "renewals", priority: "low" });
    const f = await make("+14155552675");
    await requestDial(ingest, { to: "+14155552676", campaign: "renewals" }, { key: ingest.otherTenant.key });
    await ingest.api(`/v1/dials/${b}/cancel`, { method: "POST" });
    // Creation times a minute apart, oldest first, so the time filters have something to cut.
    const ids = [a, b, c, d, e];
    for (const [n, id] of ids.entries()) await ingest.db.dial.update({ where: { id }, data: { createdAt: ago((10 - n) * MINUTE) } });

    const list = async (query: string) => {
      const response = await answer(await ingest.api(`/v1/dials?${query}`));
      expect(response.status).toBe(200);
      return response.body;
    };
    const idsOf = (body: Json) => body.items.map((item) => item.id);
    expect(idsOf(await list("campaign=renewals"))).toEqual([e, b, a]);
    expect(idsOf(await list("campaign=renewals&status=queued"))).toEqual([e, a]);
    expect(idsOf(await list("status=canceled"))).toEqual([b]);
    expect(idsOf(await list("priority=low"))).toEqual([e, c]);
    expect(idsOf(await list(`createdAfter=${encodeURIComponent(ago(8.5 * MINUTE).toISOString())}&createdBefore=${encodeURIComponent(ago(6.5 * MINUTE).toISOString())}`))).toEqual([
      d,
      c,
    ]);

    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = await list(`limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...idsOf(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([f, e, d, c, b, a]);

    expect(await answer(await ingest.api("/v1/dials?cursor=nonsense"))).toMatchObject({ status: 400, body: { error: { code: "invalid_cursor" } } });
    expect((await ingest.api("/v1/dials?status=dialing")).status).toBe(400);
  });
});

describe("a dial the dialer never got to the carrier", () => {
  test("is failed provider_no_sid by the sweep a minute after placing began, which frees its number for a new request; a younger one is left alone", async ({ ingest }) => {
    const admin = await ingest.createTenant("operators", ["admin"]);
    const stuck = (await answer(await requestDial(ingest, { to: "+14155552671", campaign: "renewals" }))).body.id as string;
    const young = (await answer(await requestDial(ingest, { to: "+14155552672", campaign: "renewals" }))).body.id as string;
    // As a dialer that died after claiming them would leave them: placing, no provider call id.
    await ingest.db.dial.update({ where: { id: stuck }, data: { status: "placing", attempt: 1, startedAt: ago(61_000), heartbeatAt: ago(61_000), createdAt: ago(2 * MINUTE) } });
    await ingest.db.dial.update({ where: { id: young }, data: { status: "placing", attempt: 1, startedAt: ago(30_000), heartbeatAt: ago(30_000), createdAt: ago(2 * MINUTE) } });
    expect((await answer(await requestDial(ingest, { to: "+14155552671", campaign: "renewals" }))).body).toEqual({ id: stuck, status: "placing" });

    const sweep = await ingest.api("/v1/admin/reaper/sweep", { key: admin.key, method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(sweep.status).toBe(200);
    const dialActions = ((await sweep.json()) as { actions: { kind: string; entityId: string; outcome: string }[] }).actions.filter((action) => action.kind === "dial.fail");
    expect(dialActions).toEqual([expect.objectContaining({ entityId: stuck, outcome: "applied" })]);

    const failed = (await answer(await ingest.api(`/v1/dials/${stuck}`))).body;
    expect(failed).toMatchObject({ status: "failed", error: { code: "provider_no_sid" } });
    expect(failed.timeline.at(-1)).toMatchObject({ status: "failed", attempt: 1, errorCode: "provider_no_sid" });
    expect((await answer(await ingest.api(`/v1/dials/${young}`))).body).toMatchObject({ status: "placing", error: null });

    const next = await answer(await requestDial(ingest, { to: "+14155552671", campaign: "renewals" }));
    expect(next.status).toBe(202);
    expect(next.body.id).not.toBe(stuck);
  });
});

describe("the OpenAPI document", () => {
  test("describes every dial and do-not-call route from the same schemas that validate them", async ({ ingest }) => {
    type Operation = { parameters?: { in: string; name: string }[]; requestBody?: { content: Record<string, { schema: { required?: string[]; properties: Record<string, { enum?: string[] }> } }> }; responses: Record<string, unknown> };
    const document = (await (await ingest.api("/docs/json", { key: null })).json()) as { paths: Record<string, Record<string, Operation>> };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations).toEqual(
      expect.arrayContaining(["POST /v1/dials", "GET /v1/dials", "GET /v1/dials/{id}", "POST /v1/dials/{id}/cancel", "POST /v1/dnc", "GET /v1/dnc", "DELETE /v1/dnc/{number}"]),
    );
    const request = document.paths["/v1/dials"]!.post!;
    const body = request.requestBody!.content["application/json"]!.schema;
    expect(body.required).toEqual(["to"]);
    expect(body.properties.priority!.enum).toEqual(["high", "normal", "low"]);
    expect(request.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: "header", name: "idempotency-key" })]));
    expect(Object.keys(request.responses)).toEqual(expect.arrayContaining(["200", "202", "400", "422"]));
    expect(Object.keys(document.paths["/v1/dials/{id}/cancel"]!.post!.responses)).toEqual(expect.arrayContaining(["200", "404", "409"]));
  });
});
