import { startTwilioServer } from "@callflow/telephony";
import { describe, expect, test, waitFor } from "@callflow/testkit";
import { dialerConfigFromEnv, start } from "../src/index.ts";
import { clockStartingAt, dialerEnv, requestDials, seedTenant } from "./support/harness.ts";

describe("a dial requested outside the tenant's call window", () => {
  test("is scheduled for the next opening in the callee's time zone, never failed, and placed once the clock passes it", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    // 08:59:57 in New York (UTC-5 in December); the window is 09:00–20:00.
    const clock = clockStartingAt(new Date("2026-12-08T13:59:57Z"));
    const opening = new Date("2026-12-08T14:00:00Z");
    const tenant = await seedTenant(database.db, { start: 9 * 60, end: 20 * 60 });
    const dialer = await start(dialerConfigFromEnv(dialerEnv(database, messaging, storage, twilio)), { clock });
    try {
      const [dialId] = await requestDials(database.db, messaging.topology, dialer.context.relay, tenant.id, [{ toNumber: "+12125551234", calleeTimezone: "America/New_York" }], clock);
      const scheduled = await waitFor("the dial scheduled", () => database.db.dial.findFirst({ where: { id: dialId, status: "scheduled" } }));
      expect(scheduled.nextAttemptAt).toEqual(opening);
      expect(twilio.calls.size).toBe(0);
      expect(await database.db.dialEvent.findFirst({ where: { dialId, status: "scheduled" } })).toMatchObject({ attempt: 0, errorCode: null });

      const placed = await waitFor("the dial placed after the opening", () => database.db.dial.findFirst({ where: { id: dialId, status: "placed" } }), { timeoutMs: 15_000 });
      expect(placed.startedAt!.getTime()).toBeGreaterThanOrEqual(opening.getTime());
      expect(twilio.calls.size).toBe(1);
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });

  test("with the window closed for the day is scheduled for tomorrow's opening", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    // 21:30 in Berlin (UTC+1): tomorrow at 09:00 Berlin is 08:00 UTC.
    const clock = clockStartingAt(new Date("2026-12-08T20:30:00Z"));
    const tenant = await seedTenant(database.db, { start: 9 * 60, end: 20 * 60 });
    const dialer = await start(dialerConfigFromEnv(dialerEnv(database, messaging, storage, twilio)), { clock });
    try {
      const [dialId] = await requestDials(database.db, messaging.topology, dialer.context.relay, tenant.id, [{ toNumber: "+493012345678", calleeTimezone: "Europe/Berlin" }], clock);
      const scheduled = await waitFor("the dial scheduled", () => database.db.dial.findFirst({ where: { id: dialId, status: "scheduled" } }));
      expect(scheduled.nextAttemptAt).toEqual(new Date("2026-12-09T08:00:00Z"));
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  });
});
