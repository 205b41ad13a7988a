import { startTwilioServer, twilioEnvFor } from "@callflow/telephony";
import { describe, expect, test, waitFor } from "@callflow/testkit";
import { pipelineEnv } from "./support/pipeline-env.ts";
import { startStack } from "../src/stack.ts";

describe("canceling a dial whose call is live", () => {
  test("hangs the call up at the carrier: it ends long before it would have, and the dial stays canceled", async ({ database, messaging, storage }) => {
    // Each status lasts 2 s at this carrier: the call would ring, talk and end over several seconds.
    const twilio = await startTwilioServer({ stepMs: 2_000 });
    const stack = await startStack(
      {
        ...pipelineEnv(database, messaging, storage),
        ...twilioEnvFor(twilio),
      },
      { randomPorts: true },
    );
    try {
      const api = (path: string, init: RequestInit = {}) =>
        fetch(`${stack.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${stack.apiKey}`, ...(init.body ? { "content-type": "application/json" } : {}) } });
      const { id } = (await (await api("/v1/dials", { method: "POST", body: JSON.stringify({ to: "+14155550001" }) })).json()) as { id: string };
      const placed = await waitFor("the call placed", async () => {
        const dial = await database.db.dial.findUnique({ where: { id } });
        return dial?.providerCallId ? dial : undefined;
      }, { timeoutMs: 60_000, intervalMs: 50 });
      const call = twilio.calls.get(placed.providerCallId!)!;
      expect(["queued", "ringing"]).toContain(call.status);

      expect((await api(`/v1/dials/${id}/cancel`, { method: "POST" })).status).toBe(200);
      await waitFor("the carrier's call hung up", () => call.status === "canceled" || undefined, { timeoutMs: 30_000, intervalMs: 50 });
      // Never answered: no recording, and no talking.
      expect(call.durationSeconds).toBe(0);
      expect([...twilio.recordings.values()].filter((recording) => recording.callSid === call.sid)).toEqual([]);
      await twilio.settled();
      expect(await database.db.dial.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "canceled" });
      expect((await api(`/v1/dials/${id}/recording`)).status).toBe(404);
    } finally {
      await stack.stop();
      await twilio.close();
    }
  }, 180_000);
});
