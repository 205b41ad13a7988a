import { encodeEvent } from "@callflow/contracts";
import { markerFromUrl, startTwilioServer, type SimulatedCall, type TwilioServer } from "@callflow/telephony";
import { describe, expect, test, waitFor, type TestBucket, type TestDatabase, type TestNamespace } from "@callflow/testkit";
import { dialerConfigFromEnv, start, type DialerHandle } from "../src/index.ts";
import { dialerEnv, requestDials, seedTenant } from "./support/harness.ts";

const BUSY = "+14155550002";
const SPACING_MS = 300;

const startDialer = (database: TestDatabase, messaging: TestNamespace, storage: TestBucket, twilio: TwilioServer) =>
  start(dialerConfigFromEnv(dialerEnv(database, messaging, storage, twilio, { CALLFLOW_DIALER_CALLS_PER_SECOND: "20", CALLFLOW_DIALER_RETRY_SPACING_MS: String(SPACING_MS) })));

const markerOf = (call: SimulatedCall) => markerFromUrl([call.params.StatusCallback].flat()[0]);

/**
 * Does what ingest does with the carrier's final status callback (the harness points callbacks
 * nowhere): the call's busy ending, with its marker's attempt, published as dialStatusChanged.
 */
const reportBusyCalls = async (dialer: DialerHandle, messaging: TestNamespace, twilio: TwilioServer, tenantId: string, reported: Set<string>) => {
  for (const call of twilio.calls.values()) {
    const marker = markerOf(call);
    if (call.status !== "busy" || !marker || reported.has(call.sid)) continue;
    reported.add(call.sid);
    const event = encodeEvent("dialStatusChanged", { tenantId, dialId: marker.dialId, status: "busy", attempt: marker.attempt, providerCallId: call.sid });
    await dialer.context.js.publish(messaging.topology.subject("dialStatusChanged"), event, { msgID: `${call.sid}-busy` });
  }
};

describe("retries by outcome", () => {
  test("a busy dial with two attempts is placed twice, the second call marked attempt 2, and ends busy after it", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const dialer = await startDialer(database, messaging, storage, twilio);
    try {
      const tenant = await seedTenant(database.db);
      const [dialId] = await requestDials(database.db, messaging.topology, dialer.context.relay, tenant.id, [{ toNumber: BUSY, maxAttempts: 2 }]);
      const reported = new Set<string>();
      const ended = await waitFor("the dial ended busy", async () => {
        await reportBusyCalls(dialer, messaging, twilio, tenant.id, reported);
        return database.db.dial.findFirst({ where: { id: dialId, status: "busy" } });
      });
      expect(ended).toMatchObject({ attempt: 2, finishedAt: expect.any(Date) });
      const calls = [...twilio.calls.values()].sort((a, b) => a.dateCreated.getTime() - b.dateCreated.getTime());
      expect(calls.map((call) => markerOf(call))).toEqual([{ dialId, attempt: 1 }, { dialId, attempt: 2 }]);
      expect(ended.providerCallId).toBe(calls[1]!.sid);

      // The request's own row is stamped by Postgres's clock, the rest by the dialer's: left out of the order.
      const events = await database.db.dialEvent.findMany({ where: { dialId, attempt: { gt: 0 } }, orderBy: { seq: "asc" } });
      expect(events.map((e) => [e.status, e.attempt, e.errorCode])).toEqual([
        ["placing", 1, null],
        ["placed", 1, null],
        ["queued", 1, "busy"],
        ["placing", 2, null],
        ["placed", 2, null],
        ["busy", 2, null],
      ]);
      const requeued = events[2]!;
      const secondPlacing = events[3]!;
      expect(secondPlacing.at.getTime() - requeued.at.getTime()).toBeGreaterThanOrEqual(SPACING_MS - 5);
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });

  test("a busy dial with one attempt ends busy at once", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const dialer = await startDialer(database, messaging, storage, twilio);
    try {
      const tenant = await seedTenant(database.db);
      const [dialId] = await requestDials(database.db, messaging.topology, dialer.context.relay, tenant.id, [{ toNumber: BUSY }]);
      const reported = new Set<string>();
      const ended = await waitFor("the dial ended busy", async () => {
        await reportBusyCalls(dialer, messaging, twilio, tenant.id, reported);
        return database.db.dial.findFirst({ where: { id: dialId, status: "busy" } });
      });
      expect(ended).toMatchObject({ attempt: 1 });
      expect(twilio.calls.size).toBe(1);
      expect(await database.db.dialEvent.count({ where: { dialId, status: "queued", errorCode: "busy" } })).toBe(0);
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });
});
