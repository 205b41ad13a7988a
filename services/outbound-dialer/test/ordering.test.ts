import { startTwilioServer } from "@callflow/telephony";
import { describe, expect, test, waitFor } from "@callflow/testkit";
import { dialerConfigFromEnv, start } from "../src/index.ts";
import { dialerEnv, ordinaryNumber, requestDials, seedTenant } from "./support/harness.ts";

describe("the order dials are placed in", () => {
  test("under a backlog: high before normal before low, except a low dial that waited past the aging bound", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const tenant = await seedTenant(database.db);
    const agingMs = 60_000;
    const now = Date.now();
    // Requested in this order before the dialer starts; one low dial has been due for three aging periods.
    const seeds = [
      ...Array.from({ length: 10 }, (_, i) => ({ toNumber: ordinaryNumber(i), priority: "low" as const, nextAttemptAt: new Date(i === 4 ? now - 3 * agingMs : now) })),
      ...Array.from({ length: 5 }, (_, i) => ({ toNumber: ordinaryNumber(10 + i), priority: "high" as const, nextAttemptAt: new Date(now) })),
      ...Array.from({ length: 5 }, (_, i) => ({ toNumber: ordinaryNumber(15 + i), priority: "normal" as const, nextAttemptAt: new Date(now) })),
    ];
    const ids = await requestDials(database.db, messaging.topology, undefined, tenant.id, seeds);
    const dialer = await start(
      dialerConfigFromEnv(dialerEnv(database, messaging, storage, twilio, { CALLFLOW_DIALER_CALLS_PER_SECOND: "4", CALLFLOW_DIALER_CONCURRENCY: "3", CALLFLOW_DIALER_AGING_MS: String(agingMs), CALLFLOW_DIALER_TENANT_CONCURRENCY: "100" })),
    );
    try {
      await waitFor("all 20 dials placed", async () => (await database.db.dial.count({ where: { id: { in: ids }, status: "placed" } })) === 20, { timeoutMs: 30_000, intervalMs: 100 });
      const placed = await database.db.dial.findMany({ where: { id: { in: ids } }, orderBy: { startedAt: "asc" }, select: { toNumber: true, priority: true } });
      expect(placed[0]!.toNumber).toBe(ordinaryNumber(4));
      expect(placed.slice(1).map((dial) => dial.priority)).toEqual([...Array(5).fill("high"), ...Array(5).fill("normal"), ...Array(9).fill("low")]);
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  }, 60_000);

  test("a low dial goes ahead of waiting high dials within its aging bound, though highs keep arriving faster than they are placed", async ({ database, messaging, storage }) => {
    const twilio = await startTwilioServer();
    const tenant = await seedTenant(database.db);
    const agingMs = 1_000;
    const dialer = await start(
      dialerConfigFromEnv(dialerEnv(database, messaging, storage, twilio, { CALLFLOW_DIALER_CALLS_PER_SECOND: "2", CALLFLOW_DIALER_CONCURRENCY: "1", CALLFLOW_DIALER_AGING_MS: String(agingMs), CALLFLOW_DIALER_TENANT_CONCURRENCY: "100" })),
    );
    let arrivals = 0;
    const request = (priority: "high" | "low") => requestDials(database.db, messaging.topology, dialer.context.relay, tenant.id, [{ toNumber: ordinaryNumber(arrivals++), priority }]);
    try {
      const highs = [...(await request("high")), ...(await request("high"))];
      const [lowId] = await request("low");
      // Three high dials a second against two placed a second: the high backlog only grows.
      const feeding = setInterval(() => void request("high").then((ids) => highs.push(...ids), () => undefined), 300);
      try {
        const low = await waitFor("the low dial placed", () => database.db.dial.findFirst({ where: { id: lowId, status: "placed" } }), { timeoutMs: 15_000, intervalMs: 50 });
        // It went ahead of high dials that were waiting when it went (due before it was placed, placed after
        // it), and no high dial due two aging periods after it went first.
        const all = await database.db.dial.findMany({ where: { id: { in: highs } } });
        const overtaken = all.filter((high) => high.nextAttemptAt < low.startedAt! && (!high.startedAt || high.startedAt > low.startedAt!));
        expect(overtaken.length).toBeGreaterThan(0);
        const laterHighs = all.filter((high) => high.nextAttemptAt.getTime() >= low.nextAttemptAt.getTime() + 2 * agingMs);
        expect(laterHighs.filter((high) => high.startedAt && high.startedAt < low.startedAt!)).toEqual([]);
        expect(await database.db.dial.count({ where: { id: { in: highs }, status: "queued" } })).toBeGreaterThan(0);
        expect(low.startedAt!.getTime() - low.nextAttemptAt.getTime()).toBeLessThan(4 * agingMs);
      } finally {
        clearInterval(feeding);
      }
    } finally {
      await dialer.stop();
      await twilio.close();
    }
  }, 60_000);
});
