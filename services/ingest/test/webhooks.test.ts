import { createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { getExpectedTwilioSignature } from "twilio/lib/webhooks/webhooks.js";
import { commitWithEvents } from "@callflow/messaging";
import { waitFor } from "@callflow/testkit";
import { enqueueCallNotification } from "@callflow/call-lifecycle";
import { decodeEvent } from "@callflow/contracts";
import { describe, expect, test } from "./support/ingest-fixture.ts";
// The dialer's side of the same story; a cross-service import for this one end-to-end test.
import { createApplyDialStatus } from "../../outbound-dialer/src/status/apply-dial-status.ts";

const TWILIO_TOKEN = "test-twilio-token-not-real";
const ASSEMBLYAI_SECRET = "test-assemblyai-secret-not-real";

describe("provider webhooks", () => {
  test.override({ ingestEnv: { CALLFLOW_TWILIO_AUTH_TOKEN: TWILIO_TOKEN, CALLFLOW_ASSEMBLYAI_WEBHOOK_SECRET: ASSEMBLYAI_SECRET } });

  test("Twilio: a wrong signature is rejected; a correct callback replayed 5 times has one effect", async ({ ingest }) => {
    const url = `${ingest.url}/v1/webhooks/twilio`;
    const params = { CallSid: "CA0000000000000000000000000000test", CallStatus: "completed", CallDuration: "42", SequenceNumber: "3" };
    const send = (signature: string) =>
      fetch(url, { method: "POST", body: new URLSearchParams(params), headers: { "x-twilio-signature": signature } });

    const forged = await send(getExpectedTwilioSignature("another-token", url, params));
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ error: { code: "invalid_signature" } });
    expect((await fetch(url, { method: "POST", body: new URLSearchParams(params) })).status).toBe(403);
    expect(await ingest.db.providerCallback.count()).toBe(0);

    const signature = getExpectedTwilioSignature(TWILIO_TOKEN, url, params);
    const answers = await Promise.all(Array.from({ length: 5 }, () => send(signature)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await answers[0]!.text()).toBe("<Response/>");

    const callbacks = await ingest.db.providerCallback.findMany();
    expect(callbacks).toMatchObject([{ provider: "twilio", externalId: params.CallSid, kind: "call.completed", payload: params }]);
    await waitFor("the callback announced", async () => (await ingest.db.outboxEvent.count({ where: { publishedAt: null } })) === 0);
    expect(await ingest.events("providerCallbackReceived")).toMatchObject([{ callbackId: callbacks[0]!.id, provider: "twilio" }]);
    // No marker in the URL: no dial to announce.
    expect(await ingest.db.outboxEvent.count({ where: { subject: ingest.topology.subject("dialStatusChanged") } })).toBe(0);
  });

  test("Twilio: a dial's callbacks, replayed and out of order, are each announced once and move the dial forward only", async ({ ingest }) => {
    const { db, topology } = ingest;
    const callSid = "CA0000000000000000000000000000dial";
    const dial = await db.dial.create({ data: { tenantId: ingest.tenant.tenantId, toNumber: "+14155550001", status: "placed", attempt: 2, providerCallId: callSid } });
    const url = `${ingest.url}/v1/webhooks/twilio?dial=${dial.id}&attempt=2`;
    const post = (params: Record<string, string>, token = TWILIO_TOKEN) =>
      fetch(url, { method: "POST", body: new URLSearchParams(params), headers: { "x-twilio-signature": getExpectedTwilioSignature(token, url, params) } });
    const call = (CallStatus: string, SequenceNumber: string, extra: Record<string, string> = {}) => ({ CallSid: callSid, CallStatus, SequenceNumber, Timestamp: "Mon, 07 Dec 2026 10:00:0" + SequenceNumber + " +0000", ...extra });
    const completed = call("completed", "3", { CallDuration: "42" });
    const recording = { CallSid: callSid, RecordingSid: "RE0000000000000000000000000000dial", RecordingStatus: "completed", RecordingUrl: "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1" };

    const forged = await post(completed, "another-token");
    expect(forged.status).toBe(403);
    expect(await db.providerCallback.count()).toBe(0);
    expect(await db.outboxEvent.count()).toBe(0);

    const order = [completed, call("ringing", "1"), completed, call("in-progress", "2"), call("ringing", "1"), call("initiated", "0"), recording, recording];
    for (const params of order) expect((await post(params)).status).toBe(200);

    const rows = await db.outboxEvent.findMany({ where: { subject: topology.subject("dialStatusChanged") }, orderBy: { createdAt: "asc" } });
    const announced = rows.map((row) => decodeEvent("dialStatusChanged", row.payload));
    expect(announced.map((event) => event.status)).toEqual(["completed", "ringing", "in_progress", "placed", "recording_ready"]);
    expect(announced[0]).toMatchObject({ tenantId: ingest.tenant.tenantId, dialId: dial.id, attempt: 2, providerCallId: callSid, durationSeconds: 42, occurredAt: "2026-12-07T10:00:03.000Z" });
    expect(announced[4]).toMatchObject({ recordingUrl: recording.RecordingUrl, attempt: 2 });
    expect(await db.providerCallback.count()).toBe(5);

    const { handle } = createApplyDialStatus({ db, clock: { now: () => new Date() }, logger: { info: () => {}, warn: () => {} }, retry: { spacingMs: 60_000 }, topology, recordingMaxAttempts: 3 });
    for (const event of announced) await handle(event);
    expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "completed", finishedAt: expect.any(Date) });
    expect((await db.dialEvent.findMany({ where: { dialId: dial.id } })).map((row) => row.status)).toEqual(["completed"]);
  });

  test("AssemblyAI: the auth header is checked and a repeated notification is recorded once", async ({ ingest }) => {
    const url = `${ingest.url}/v1/webhooks/assemblyai`;
    const body = JSON.stringify({ transcript_id: "5551722-f677-48a6-9287-39c0aafd9ac1", status: "completed" });
    const post = (token?: string) =>
      fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...(token ? { "x-callflow-webhook-token": token } : {}) } });
    expect((await post()).status).toBe(403);
    expect((await post("wrong")).status).toBe(403);
    expect((await post(ASSEMBLYAI_SECRET)).status).toBe(200);
    expect((await post(ASSEMBLYAI_SECRET)).status).toBe(200);
    expect(await ingest.db.providerCallback.findMany()).toMatchObject([{ provider: "assemblyai", kind: "transcript.completed", externalId: "5551722-f677-48a6-9287-39c0aafd9ac1" }]);
  });
});

describe("customer notifications", () => {
  test.override({ ingestEnv: { CALLFLOW_NOTIFY_RETRY_BASE_MS: "100", CALLFLOW_NOTIFY_MAX_ATTEMPTS: "4" } });

  test("are signed, retried with backoff through JetStream until delivered, and a refusal is recorded as failed", async ({ ingest }) => {
    const received: { headers: IncomingMessage["headers"]; body: string; at: number }[] = [];
    const refusedCall = randomUUID();
    const receiver = createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8").on("data", (text: string) => (body += text));
      request.on("end", () => {
        received.push({ headers: request.headers, body, at: Date.now() });
        const payload = JSON.parse(body) as { data: { callId: string } };
        const attempts = received.filter((entry) => entry.body === body).length;
        response.statusCode = payload.data.callId === refusedCall ? 410 : attempts < 3 ? 503 : 204;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
      const configured = await ingest.api("/v1/notifications/endpoint", { method: "PUT", body: JSON.stringify({ url: endpoint }), headers: { "content-type": "application/json" } });
      const { secret } = (await configured.json()) as { secret: string };

      const deliveredCall = randomUUID();
      for (const [callId, event] of [[deliveredCall, "call.completed"], [refusedCall, "call.failed"]] as const) {
        // What the stage that makes a call terminal does, in its own transaction.
        await commitWithEvents(ingest.db, ingest.topology, (tx, emit) =>
          enqueueCallNotification(tx, emit, { tenantId: ingest.tenant.tenantId, callId, event, audioVersion: 1 }),
        );
      }
      // Announcing the same terminal state again does not notify twice.
      await commitWithEvents(ingest.db, ingest.topology, (tx, emit) =>
        enqueueCallNotification(tx, emit, { tenantId: ingest.tenant.tenantId, callId: deliveredCall, event: "call.completed", audioVersion: 1 }),
      );

      const list = async () => ((await (await ingest.api("/v1/notifications")).json()) as { items: { callId: string; status: string; attempt: number; error: unknown; responseStatus: number }[] }).items;
      const settled = await waitFor("both notifications settled", async () => {
        const items = await list();
        return items.length === 2 && items.every((item) => item.status !== "pending") ? items : undefined;
      }, { timeoutMs: 30_000 });
      expect(settled.find((item) => item.callId === deliveredCall)).toMatchObject({ status: "delivered", attempt: 3, error: null, responseStatus: 204 });
      expect(settled.find((item) => item.callId === refusedCall)).toMatchObject({ status: "failed", attempt: 1, responseStatus: 410, error: { code: "http_410" } });

      const deliveries = received.filter((entry) => entry.body.includes(deliveredCall));
      expect(deliveries).toHaveLength(3);
      expect(new Set(deliveries.map((entry) => entry.headers["callflow-notification-id"])).size).toBe(1);
      expect(deliveries[2]!.at - deliveries[1]!.at).toBeGreaterThanOrEqual(deliveries[1]!.at - deliveries[0]!.at - 50);
      for (const delivery of deliveries) {
        const [, timestamp, signature] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(delivery.headers["callflow-signature"]))!;
        expect(signature).toBe(createHmac("sha256", secret).update(`${timestamp}.${delivery.body}`).digest("hex"));
      }
      expect(JSON.parse(deliveries[0]!.body)).toMatchObject({ event: "call.completed", data: { callId: deliveredCall, status: "completed" } });
      expect((await ingest.api("/v1/notifications", { key: ingest.otherTenant.key }).then((r) => r.json())) as object).toEqual({ items: [] });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
