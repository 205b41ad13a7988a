import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, test, waitFor } from "@callflow/testkit";
import { pipelineEnv } from "./support/pipeline-env.ts";
import { startStack } from "../src/stack.ts";

describe("an outbound call on the embedded defaults", () => {
  test(
    "an answered call's recording becomes a completed call with a transcript, a summary and one lead; every event of the flow delivered again makes no second call or lead",
    async ({ database, messaging, storage }) => {
      const stack = await startStack(
        {
          ...pipelineEnv(database, messaging, storage),
        },
        { randomPorts: true },
      );
      try {
        const api = (path: string, init: RequestInit = {}) =>
          fetch(`${stack.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json", ...(init.headers as Record<string, string>) } });
        const requested = await api("/v1/dials", { method: "POST", body: JSON.stringify({ to: "+14155550001", campaign: "loop" }) });
        expect(requested.status).toBe(202);
        const { id: dialId } = (await requested.json()) as { id: string };

        const dial = await waitFor(
          "the dial's call completed and its lead made",
          async () => {
            const body = (await (await api(`/v1/dials/${dialId}`)).json()) as { status: string; callId: string | null; leadId: string | null };
            return body.leadId ? body : undefined;
          },
          { timeoutMs: 240_000, intervalMs: 250 },
        );
        expect(dial).toMatchObject({ status: "completed", callId: expect.any(String) });
        const call = (await (await api(`/v1/calls/${dial.callId}`)).json()) as { status: string };
        expect(call.status).toBe("completed");
        const transcript = (await (await api(`/v1/calls/${dial.callId}/transcript`)).json()) as { text: string };
        expect(transcript.text.split(/\s+/).length).toBeGreaterThan(5);
        expect((await api(`/v1/calls/${dial.callId}/summary`)).status).toBe(200);
        const lead = (await (await api(`/v1/leads/${dial.leadId}`)).json()) as Record<string, unknown>;
        expect(lead).toMatchObject({ callId: dial.callId, dialId, direction: "outbound", to: "+14155550001", summaryRevision: 1 });
        const recording = await api(`/v1/dials/${dialId}/recording?redirect=false`);
        expect(recording.status).toBe(200);
        expect((await recording.arrayBuffer()).byteLength).toBeGreaterThan(1_000);

        // Every event this namespace carried, published again as new messages (new ids: JetStream's dedupe does not help).
        const js = jetstream(messaging.nats);
        const events = await database.db.outboxEvent.findMany({ where: { publishedAt: { not: null } }, orderBy: { createdAt: "asc" } });
        expect(events.length).toBeGreaterThan(10);
        for (const [index, event] of events.entries()) await js.publish(event.subject, event.payload, { msgID: `again-${index}-${event.id}` });
        const jsm = await jetstreamManager(messaging.nats);
        await waitFor(
          "every consumer to have taken and settled the redelivered events",
          async () => {
            for (const stream of [messaging.topology.stream("calls"), messaging.topology.stream("dials")]) {
              for await (const consumer of jsm.consumers.list(stream)) if (consumer.num_pending + consumer.num_ack_pending > 0) return false;
            }
            return true;
          },
          { timeoutMs: 120_000, intervalMs: 200 },
        );
        expect(await database.db.call.count({ where: { source: "dial" } })).toBe(1);
        expect(await database.db.lead.count()).toBe(1);
        expect(await database.db.recordingFetch.findMany({ select: { status: true, attempt: true } })).toEqual([{ status: "succeeded", attempt: 1 }]);
        expect((await (await api(`/v1/calls/${dial.callId}`)).json()) as { status: string }).toMatchObject({ status: "completed" });
        expect(((await (await api("/v1/leads")).json()) as { items: unknown[] }).items).toHaveLength(1);
      } finally {
        await stack.stop();
      }
    },
    400_000,
  );
});
