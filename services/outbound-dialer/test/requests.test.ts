import { encodeEvent } from "@callflow/contracts";
import { startTwilioServer } from "@callflow/telephony";
import { describe, expect, test, waitFor } from "@callflow/testkit";
import { dialerConfigFromEnv, start } from "../src/index.ts";
import { dialerEnv, ordinaryNumber, requestDials, seedTenant } from "./support/harness.ts";

describe("dial requests and the tenant's cap", () => {
  test("a dialRequested delivered again after its dial was placed is acked and places nothing", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const dialer = await start(dialerConfigFromEnv(dialerEnv(database, messaging, storage, twilio)));
    try {
      const tenant = await seedTenant(database.db);
      const [dialId] = await requestDials(database.db, messaging.topology, dialer.context.relay, tenant.id, [{ toNumber: ordinaryNumber(1) }]);
      await waitFor("the dial placed", () => database.db.dial.findFirst({ where: { id: dialId, status: "placed" } }));
      for (const msgID of ["again-1", "again-2"]) {
        await dialer.context.js.publish(messaging.topology.subject("dialRequested"), encodeEvent("dialRequested", { tenantId: tenant.id, dialId: dialId!, attempt: 0 }), { msgID });
      }
      const { stream, durable } = messaging.topology.consumer("dialer");
      await waitFor("every request settled", async () => {
        const info = await dialer.context.jsm.consumers.info(stream, durable);
        return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= 3;
      });
      expect(await database.db.dial.findUniqueOrThrow({ where: { id: dialId! } })).toMatchObject({ status: "placed", attempt: 1 });
      expect(twilio.calls.size).toBe(1);
      expect(await database.db.deadLetter.count()).toBe(0);
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });

  test("a tenant at its concurrency cap waits while another tenant's dials go out", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const dialer = await start(dialerConfigFromEnv(dialerEnv(database, messaging, storage, twilio, { CALLFLOW_DIALER_CALLS_PER_SECOND: "20", CALLFLOW_DIALER_TENANT_CONCURRENCY: "2" })));
    try {
      const busy = await seedTenant(database.db);
      const other = await seedTenant(database.db);
      const busyDials = await requestDials(database.db, messaging.topology, dialer.context.relay, busy.id, Array.from({ length: 5 }, (_, i) => ({ toNumber: ordinaryNumber(i) })));
      const otherDials = await requestDials(database.db, messaging.topology, dialer.context.relay, other.id, Array.from({ length: 2 }, (_, i) => ({ toNumber: ordinaryNumber(10 + i) })));
      await waitFor("the other tenant's dials placed", async () => (await database.db.dial.count({ where: { id: { in: otherDials }, status: "placed" } })) === 2);
      expect(await database.db.dial.count({ where: { id: { in: busyDials }, status: "placed" } })).toBe(2);
      expect(await database.db.dial.count({ where: { id: { in: busyDials }, status: "queued" } })).toBe(3);

      // One of its calls ends (as the status callbacks would record): the next dial goes out.
      const [ended] = await database.db.dial.findMany({ where: { id: { in: busyDials }, status: "placed" }, take: 1 });
      await database.db.dial.update({ where: { id: ended!.id }, data: { status: "completed", finishedAt: new Date() } });
      await waitFor("a third dial placed", async () => (await database.db.dial.count({ where: { id: { in: busyDials }, status: "placed" } })) === 2 && (await database.db.dial.count({ where: { id: { in: busyDials }, status: "queued" } })) === 2);
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });
});
