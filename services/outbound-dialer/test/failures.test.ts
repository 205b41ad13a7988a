import { encodeEvent } from "@callflow/contracts";
import { startTwilioServer, type TwilioServer } from "@callflow/telephony";
import { describe, expect, test, waitFor, type TestBucket, type TestDatabase, type TestNamespace } from "@callflow/testkit";
import { dialerConfigFromEnv, start } from "../src/index.ts";
import { dialerEnv, requestDials, seedTenant } from "./support/harness.ts";

const startDialer = (database: TestDatabase, messaging: TestNamespace, storage: TestBucket, twilio: TwilioServer, overrides: Record<string, string> = {}) =>
  start(dialerConfigFromEnv(dialerEnv(database, messaging, storage, twilio, { CALLFLOW_DIALER_CALLS_PER_SECOND: "20", ...overrides })));

describe("a dial the carrier or the tenant refuses", () => {
  test("a 429 puts the dial back in the queue until its Retry-After has passed, the error on the row", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer({ retryAfterSeconds: 30 });
    const dialer = await startDialer(database, messaging, storage, twilio);
    try {
      const tenant = await seedTenant(database.db);
      const [dialId] = await requestDials(database.db, messaging.topology, dialer.context.relay, tenant.id, [{ toNumber: "+14155550006" }]);
      const limited = await waitFor("the 429 recorded", () => database.db.dialEvent.findFirst({ where: { dialId, errorCode: "telephony_rate_limited" } }));
      const dial = await database.db.dial.findUniqueOrThrow({ where: { id: dialId! } });
      expect(dial).toMatchObject({ status: "queued", attempt: 1, errorCode: "telephony_rate_limited", providerCallId: null });
      expect(dial.errorMessage).toMatch(/429/);
      expect(limited.status).toBe("queued");
      const waitMs = dial.nextAttemptAt.getTime() - dial.startedAt!.getTime();
      expect(waitMs).toBeGreaterThanOrEqual(30_000);
      expect(waitMs).toBeLessThan(32_000);
      expect(twilio.calls.size).toBe(0);
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });

  test("a carrier answering 5xx is retried with a growing backoff, then the dial fails provider_unreachable", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const dialer = await startDialer(database, messaging, storage, twilio, { CALLFLOW_DIALER_RETRY_BASE_MS: "200", CALLFLOW_DIALER_MAX_PLACEMENT_RETRIES: "2" });
    try {
      const tenant = await seedTenant(database.db);
      const [dialId] = await requestDials(database.db, messaging.topology, dialer.context.relay, tenant.id, [{ toNumber: "+14155550005" }]);
      const failed = await waitFor("the dial failed", () => database.db.dial.findFirst({ where: { id: dialId, status: "failed" } }));
      expect(failed).toMatchObject({ errorCode: "provider_unreachable", attempt: 3 });
      const requeued = await database.db.dialEvent.findMany({ where: { dialId, status: "queued", errorCode: "telephony_unavailable" }, orderBy: { seq: "asc" } });
      expect(requeued).toHaveLength(2);
      const placings = await database.db.dialEvent.findMany({ where: { dialId, status: "placing" }, orderBy: { seq: "asc" } });
      const gaps = placings.slice(1).map((event, i) => event.at.getTime() - placings[i]!.at.getTime());
      expect(gaps[0]).toBeGreaterThanOrEqual(200);
      expect(gaps[1]).toBeGreaterThanOrEqual(400);
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });

  test("a 400 for a destination without permission fails the dial with the carrier's code and message", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const dialer = await startDialer(database, messaging, storage, twilio);
    try {
      const tenant = await seedTenant(database.db);
      const [dialId] = await requestDials(database.db, messaging.topology, dialer.context.relay, tenant.id, [{ toNumber: "+14155550009" }]);
      const failed = await waitFor("the dial failed", () => database.db.dial.findFirst({ where: { id: dialId, status: "failed" } }));
      expect(failed).toMatchObject({ errorCode: "telephony_rejected", attempt: 1, providerCallId: null });
      expect(failed.errorMessage).toMatch(/21215/);
      expect(failed.finishedAt).not.toBeNull();
      expect(await database.db.dialEvent.findFirst({ where: { dialId, status: "failed" } })).toMatchObject({ errorCode: "telephony_rejected" });
      await waitFor("dialStatusChanged committed", () => database.db.outboxEvent.findFirst({ where: { subject: messaging.topology.subject("dialStatusChanged") } }));
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });

  test("a number put on the do-not-call list after the request fails do_not_call and is never called", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const tenant = await seedTenant(database.db);
    const [dialId] = await requestDials(database.db, messaging.topology, undefined, tenant.id, [{ toNumber: "+14155551234" }]);
    await database.db.doNotCall.create({ data: { tenantId: tenant.id, number: "+14155551234" } });
    const dialer = await startDialer(database, messaging, storage, twilio);
    try {
      const failed = await waitFor("the dial failed", () => database.db.dial.findFirst({ where: { id: dialId, status: "failed" } }));
      expect(failed).toMatchObject({ errorCode: "do_not_call", attempt: 0 });
      expect(twilio.calls.size).toBe(0);
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });

  test("a dial whose call window cannot be read fails call_window_invalid instead of stopping the queue", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const tenant = await seedTenant(database.db, { start: 0, end: 1439 });
    const [broken, fine] = await requestDials(database.db, messaging.topology, undefined, tenant.id, [
      { toNumber: "+14155551236", priority: "high", calleeTimezone: "Mars/Olympus_Mons" },
      { toNumber: "+14155551237", priority: "low", calleeTimezone: "UTC" },
    ]);
    const dialer = await startDialer(database, messaging, storage, twilio);
    try {
      await waitFor("the readable dial placed", () => database.db.dial.findFirst({ where: { id: fine, status: "placed" } }));
      expect(await database.db.dial.findUniqueOrThrow({ where: { id: broken! } })).toMatchObject({ status: "failed", errorCode: "call_window_invalid" });
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });

  test("a dialRequested of an older format without a dialId is dead-lettered, and other dials still go out", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const dialer = await startDialer(database, messaging, storage, twilio);
    try {
      const tenant = await seedTenant(database.db);
      await dialer.context.js.publish(messaging.topology.subject("dialRequested"), encodeEvent("dialRequested", { tenantId: tenant.id, dialId: "", attempt: 0 }), { msgID: "old-format" });
      const letter = await waitFor("the request dead-lettered", () => database.db.deadLetter.findFirst({ where: { consumer: messaging.topology.consumer("dialer").durable } }));
      expect(letter.errorCode).toBe("dial_request_malformed");
      const [dialId] = await requestDials(database.db, messaging.topology, dialer.context.relay, tenant.id, [{ toNumber: "+14155551235" }]);
      await waitFor("the next dial placed", () => database.db.dial.findFirst({ where: { id: dialId, status: "placed" } }));
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });
});
