import { topology as topologyOf } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { createTwilioTelephony, startTwilioServer, type Telephony, type TwilioServer } from "@callflow/telephony";
import { describe, expect, freePort, test } from "@callflow/testkit";
import { afterAll, beforeAll } from "vitest";
import { reconcileStaleDials, type ReconcileDeadlines } from "./reconcile-dials.ts";
import { later, MINUTE, movableClock, outboxEvents, quietLogger, seedDial, seedTenant, timeline } from "./status-fixtures.ts";

const topology = topologyOf("dialstatus");
const deadlines: Partial<ReconcileDeadlines> = { placedMs: 2 * MINUTE, ringingMs: 2 * MINUTE, inProgressMs: 60 * MINUTE, maxProviderTries: 3 };

const adapter = (baseUrl: string, server?: TwilioServer): Telephony =>
  createTwilioTelephony({
    accountSid: server?.accountSid ?? "AC00000000000000000000000000000000",
    authToken: server?.authToken ?? "not-a-token",
    fromNumber: "+15550100000",
    apiBaseUrl: baseUrl,
    requestTimeoutMs: 2_000,
    recordingTimeoutMs: 5_000,
  });

let server: TwilioServer;
let telephony: Telephony;
beforeAll(async () => {
  server = await startTwilioServer({ stepMs: 10 });
  telephony = adapter(server.baseUrl, server);
});
afterAll(() => server.close());

const reconcile = (db: Db, now: Date, provider: Telephony = telephony) =>
  reconcileStaleDials({ db, topology, telephony: provider, clock: movableClock(now), logger: quietLogger, deadlines });

describe("reconciling dials whose callbacks stopped", () => {
  test("a call whose callbacks were all lost is settled from getCall, once, and a young dial is left alone", async ({ database: { db } }) => {
    const tenantId = await seedTenant(db);
    // Number 0008: the local Twilio plays the call out to completed but delivers no callback.
    const placed = await telephony.placeCall({ marker: { dialId: "lost", attempt: 1 }, to: "+14155550008", statusCallbackUrl: "http://127.0.0.1:9/cb", recordingStatusCallbackUrl: "http://127.0.0.1:9/rec" });
    await server.settled();
    const t0 = new Date();
    const lost = await seedDial(db, tenantId, { status: "ringing", providerCallId: placed.providerCallId, at: later(t0, -3 * MINUTE) });
    const young = await seedDial(db, tenantId, { status: "ringing", at: later(t0, -1 * MINUTE) });
    const talking = await seedDial(db, tenantId, { status: "in_progress", at: later(t0, -10 * MINUTE) });

    const first = await reconcile(db, t0);
    expect(first.actions).toEqual([{ dialId: lost.id, outcome: "settled", from: "ringing", to: "completed" }]);
    expect(await db.dial.findUniqueOrThrow({ where: { id: lost.id } })).toMatchObject({ status: "completed", finishedAt: t0 });
    expect(await timeline(db, lost.id)).toEqual([{ status: "completed", attempt: 1, errorCode: null }]);
    expect(await outboxEvents(db, topology, "dialStatusChanged")).toEqual([
      expect.objectContaining({ tenantId, dialId: lost.id, status: "completed", attempt: 1, providerCallId: placed.providerCallId, durationSeconds: expect.any(Number) }),
    ]);
    for (const untouched of [young, talking]) expect(await db.dial.findUniqueOrThrow({ where: { id: untouched.id } })).toMatchObject({ status: untouched.status, finishedAt: null });

    expect((await reconcile(db, t0)).actions).toEqual([]);
  });

  test("a provider that does not answer is asked again on later passes, and the dial is failed provider_unreachable after the last try", async ({ database: { db } }) => {
    const tenantId = await seedTenant(db);
    const t0 = new Date();
    const dial = await seedDial(db, tenantId, { status: "in_progress", at: later(t0, -61 * MINUTE) });
    // Nothing listens there: every getCall is refused, a retryable telephony_unreachable.
    const unreachable = adapter(`http://127.0.0.1:${await freePort()}`);

    const passes = [];
    for (let pass = 0; pass < 3; pass += 1) passes.push((await reconcile(db, later(t0, pass * MINUTE), unreachable)).actions);
    expect(passes.map((actions) => actions.map((a) => a.outcome))).toEqual([["unreachable"], ["unreachable"], ["failed"]]);
    expect(passes[2]).toEqual([expect.objectContaining({ dialId: dial.id, errorCode: "provider_unreachable" })]);
    expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "failed", errorCode: "provider_unreachable", finishedAt: later(t0, 2 * MINUTE) });
    expect(await timeline(db, dial.id)).toEqual([
      { status: "in_progress", attempt: 1, errorCode: "provider_unreachable" },
      { status: "in_progress", attempt: 1, errorCode: "provider_unreachable" },
      { status: "failed", attempt: 1, errorCode: "provider_unreachable" },
    ]);
    expect(await outboxEvents(db, topology, "dialStatusChanged")).toEqual([expect.objectContaining({ dialId: dial.id, status: "failed" })]);
    expect((await reconcile(db, later(t0, 3 * MINUTE), unreachable)).actions).toEqual([]);
  });

  test("a dial the provider says is still where it is gets its deadline anew instead of an answer every pass", async ({ database: { db } }) => {
    const tenantId = await seedTenant(db);
    // A carrier whose calls take a minute per step: this one is still being put through.
    const slow = await startTwilioServer({ stepMs: 60_000 });
    try {
      const slowTelephony = adapter(slow.baseUrl, slow);
      const call = await slowTelephony.placeCall({ marker: { dialId: "slow", attempt: 1 }, to: "+14155550008", statusCallbackUrl: "http://127.0.0.1:9/cb", recordingStatusCallbackUrl: "http://127.0.0.1:9/rec" });
      const t0 = new Date();
      const dial = await seedDial(db, tenantId, { status: "placed", providerCallId: call.providerCallId, at: later(t0, -3 * MINUTE) });
      const finished = await seedDial(db, tenantId, { status: "completed", providerCallId: call.providerCallId, at: later(t0, -90 * MINUTE) });

      expect((await reconcile(db, t0, slowTelephony)).actions).toEqual([{ dialId: dial.id, outcome: "confirmed", status: "placed" }]);
      expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "placed", heartbeatAt: t0 });
      expect((await reconcile(db, later(t0, MINUTE), slowTelephony)).actions).toEqual([]);
      expect((await reconcile(db, later(t0, 3 * MINUTE), slowTelephony)).actions).toEqual([{ dialId: dial.id, outcome: "confirmed", status: "placed" }]);
      expect(await timeline(db, dial.id)).toEqual([]);
      expect(await db.dial.findUniqueOrThrow({ where: { id: finished.id } })).toMatchObject({ status: "completed" });
    } finally {
      await slow.close();
    }
  });
});
