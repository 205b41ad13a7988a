import { startTwilioServer } from "@callflow/telephony";
import { describe, expect, test, waitFor } from "@callflow/testkit";
import { dialerConfigFromEnv, start } from "../src/index.ts";
import { dialerEnv, ordinaryNumber, requestDials, seedTenant } from "./support/harness.ts";

describe("two dialer replicas sharing one provider account", () => {
  test("place every one of 30 dials, never more than 5 calls (plus one at the window's edge) in any second", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const env = dialerEnv(database, messaging, storage, twilio, { CALLFLOW_DIALER_CALLS_PER_SECOND: "5", CALLFLOW_DIALER_CONCURRENCY: "3", CALLFLOW_DIALER_TENANT_CONCURRENCY: "100" });
    const replicas = [await start(dialerConfigFromEnv(env)), await start(dialerConfigFromEnv(env))];
    try {
      const tenant = await seedTenant(database.db);
      const dialIds = await requestDials(database.db, messaging.topology, replicas[0]!.context.relay, tenant.id, Array.from({ length: 30 }, (_, i) => ({ toNumber: ordinaryNumber(i) })));
      await waitFor("all 30 dials placed", async () => (await database.db.dial.count({ where: { id: { in: dialIds }, status: "placed" } })) === 30, { timeoutMs: 30_000, intervalMs: 100 });

      const created = [...twilio.calls.values()].map((call) => call.dateCreated.getTime()).sort((a, b) => a - b);
      expect(created).toHaveLength(30);
      // Pacing is decided when a replica takes a token and claims a dial, in the same transaction that
      // writes the `placing` timeline row (the database's clock). Read there: on a loaded machine the
      // HTTP requests that follow can bunch up on their way to the carrier, which is not the dialer's pace.
      const claimed = (await database.db.dialEvent.findMany({ where: { dialId: { in: dialIds }, status: "placing" }, select: { at: true } }))
        .map((event) => event.at.getTime())
        .sort((a, b) => a - b);
      expect(claimed).toHaveLength(30);
      const busiestSecond = Math.max(...claimed.map((from) => claimed.filter((at) => at >= from && at < from + 1_000).length));
      expect(busiestSecond).toBeLessThanOrEqual(6);
      const placedHere = async (replica: (typeof replicas)[number]) =>
        (await replica.context.metrics.registry.getSingleMetric("callflow_dialer_placements_total")?.get())?.values.find((value) => value.labels.outcome === "placed")?.value ?? 0;
      // Both replicas ran their lanes the whole time, each able to reach the limit alone; which one wins
      // each token is up to the row lock (on a loaded machine one may win them all), so only the sum is fixed.
      expect(Number(await placedHere(replicas[0]!)) + Number(await placedHere(replicas[1]!))).toBe(30);
      const placedBy = await database.db.dial.findMany({ where: { id: { in: dialIds } }, select: { providerCallId: true, attempt: true } });
      expect(placedBy.every((dial) => dial.attempt === 1 && dial.providerCallId?.startsWith("CA"))).toBe(true);
      expect(new Set(placedBy.map((dial) => dial.providerCallId)).size).toBe(30);
      // 30 calls at 5 a second, the first at once: not much faster than 29 / 5 seconds.
      expect(created.at(-1)! - created[0]!).toBeGreaterThanOrEqual(5_000);
    } finally {
      for (const replica of replicas) await replica.stop();
      await twilio.close();
    }
  }, 60_000);
});
