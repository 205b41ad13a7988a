import { startTwilioServer } from "@callflow/telephony";
import { describe, expect, freePort, spawnService, stopService, test, waitFor, waitReady } from "@callflow/testkit";
import { dialerConfigFromEnv, start } from "../src/index.ts";
import { dialerEnv, requestDials, seedTenant } from "./support/harness.ts";

describe("a dialer killed between the carrier's acceptance and its commit", () => {
  test("leaves one call, which the next dialer finds by its marker and commits instead of placing another", async ({ database, messaging, storage }) => {
    // The carrier creates the call at once but holds its 201 back: the doomed dialer never hears of it.
    const twilio = await startTwilioServer({ createDelayMs: 20_000 });
    const env = dialerEnv(database, messaging, storage, twilio);
    const opsPort = await freePort();
    const doomed = spawnService("outbound-dialer", { ...env, CALLFLOW_DIALER_OPS_PORT: String(opsPort) });
    try {
      await waitReady(doomed, `http://127.0.0.1:${opsPort}/readyz`);
      const tenant = await seedTenant(database.db);
      const [dialId] = await requestDials(database.db, messaging.topology, undefined, tenant.id, [{ toNumber: "+14155552468" }]);
      const first = await waitFor("the carrier to receive the call", () => [...twilio.calls.values()][0], { timeoutMs: 30_000, intervalMs: 10 });
      doomed.child.kill("SIGKILL");
      await stopService(doomed);
      expect(await database.db.dial.findUniqueOrThrow({ where: { id: dialId! } })).toMatchObject({ status: "placing", attempt: 1, providerCallId: null });

      twilio.answers.createDelayMs = 0;
      // The next dialer sees the attempt as a dead dialer's once its heartbeat is older than 2 s.
      const next = await start(dialerConfigFromEnv({ ...env, CALLFLOW_TWILIO_TIMEOUT_MS: "1000", CALLFLOW_DIALER_STALE_AFTER_MS: "2000" }));
      try {
        const placed = await waitFor("the dial placed", () => database.db.dial.findFirst({ where: { id: dialId, status: "placed" } }), { timeoutMs: 30_000 });
        expect(placed).toMatchObject({ providerCallId: first.sid, attempt: 1 });
        expect([...twilio.calls.values()].filter((call) => call.to === "+14155552468")).toHaveLength(1);
        const timeline = await database.db.dialEvent.findMany({ where: { dialId }, orderBy: { seq: "asc" } });
        // The doomed attempt, the take-over, then (when the carrier has not logged the call's first
        // callback yet, a pending marker) a look again later: only ever `placing` until it is adopted.
        const statuses = timeline.map((event) => event.status);
        expect(statuses.slice(0, 3)).toEqual(["queued", "placing", "placing"]);
        expect(statuses.at(-1)).toBe("placed");
        expect(statuses.slice(1, -1).every((status) => status === "placing")).toBe(true);
      } finally {
        await next.stop();
      }
    } finally {
      if (doomed.child.exitCode === null) doomed.child.kill("SIGKILL");
      await twilio.close();
    }
  }, 120_000);
});
