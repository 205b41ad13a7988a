import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startTwilioServer, type TwilioServer } from "@callflow/telephony";
import { describe, expect, test, waitFor, type TestBucket, type TestDatabase, type TestNamespace } from "@callflow/testkit";
import { dialerConfigFromEnv, start } from "../src/index.ts";
import { dialerEnv, ordinaryNumber, requestDials, seedTenant } from "./support/harness.ts";

const HALF_OPEN_MS = 30_000;

/** A Twilio account in an outage: its REST API answers 500 to everything, as Twilio's does. */
const startDownCarrier = async () => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    req.resume();
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ code: 20500, message: "Internal Server Error", more_info: "https://www.twilio.com/docs/errors/20500", status: 500 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    account: { accountSid: `AC${randomBytes(16).toString("hex")}`, authToken: "down", baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

const startDialer = (database: TestDatabase, messaging: TestNamespace, storage: TestBucket, twilio: Pick<TwilioServer, "accountSid" | "authToken" | "baseUrl">, overrides: Record<string, string> = {}) =>
  start(dialerConfigFromEnv(dialerEnv(database, messaging, storage, twilio, { CALLFLOW_DIALER_CALLS_PER_SECOND: "20", CALLFLOW_DIALER_RETRY_BASE_MS: "50", ...overrides })));

describe("a circuit breaker per provider account", () => {
  test("two 5xx from account A open its breaker: A stops calling, its dial waits for the half-open time, and account B's dialer places the other dials", async ({ database, messaging, storage }) => {
    const down = await startDownCarrier();
    const healthy = await startTwilioServer();
    const dialerA = await startDialer(database, messaging, storage, down.account, { CALLFLOW_DIALER_CONCURRENCY: "1", CALLFLOW_DIALER_BREAKER_THRESHOLD: "2", CALLFLOW_DIALER_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS) });
    let dialerB: Awaited<ReturnType<typeof startDialer>> | undefined;
    try {
      const tenant = await seedTenant(database.db);
      const [first] = await requestDials(database.db, messaging.topology, dialerA.context.relay, tenant.id, [{ toNumber: ordinaryNumber(1) }]);
      const opened = await waitFor("account A's breaker opened on the dial", () => database.db.dialEvent.findFirst({ where: { dialId: first, errorCode: "provider_breaker_open" } }));
      expect(down.requests()).toBe(2);
      const waiting = await database.db.dial.findUniqueOrThrow({ where: { id: first! } });
      expect(waiting).toMatchObject({ status: "queued", attempt: 2, errorCode: "provider_breaker_open", providerCallId: null });
      expect(waiting.errorMessage).toMatch(/500|Internal Server Error/);
      const wait = waiting.nextAttemptAt.getTime() - opened.at.getTime();
      expect(wait).toBeGreaterThan(HALF_OPEN_MS - 1_000);
      expect(wait).toBeLessThanOrEqual(HALF_OPEN_MS);
      expect(await database.db.dialEvent.count({ where: { dialId: first, status: "queued", errorCode: "telephony_unavailable" } })).toBe(1);

      dialerB = await startDialer(database, messaging, storage, healthy);
      const others = await requestDials(database.db, messaging.topology, dialerA.context.relay, tenant.id, [{ toNumber: ordinaryNumber(2) }, { toNumber: ordinaryNumber(3) }]);
      await waitFor("account B placed the other dials", async () => ((await database.db.dial.count({ where: { id: { in: others }, status: { in: ["placed", "ringing", "in_progress", "completed"] } } })) === 2 ? true : undefined));
      expect([...healthy.calls.values()].map((call) => call.to).sort()).toEqual([ordinaryNumber(2), ordinaryNumber(3)]);
      // A's lanes claimed nothing while open: its carrier heard no more.
      expect(down.requests()).toBe(2);
      expect(await database.db.dial.findUniqueOrThrow({ where: { id: first! } })).toMatchObject({ status: "queued", attempt: 2 });
    } finally {
      await dialerB?.stop();
      await dialerA.stop();
      await healthy.close();
      await down.close();
    }
  });
});
