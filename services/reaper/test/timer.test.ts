import { reaperConfigFromEnv, start, type ReaperHandle } from "../src/index.ts";
import { startTcpGate, testInfraUrls, waitFor } from "@callflow/testkit";
import { describe, expect, MINUTE, rawOutboxRow, reaperEnv, test } from "./support.ts";

const postgres = { host: "127.0.0.1", port: Number(new URL(testInfraUrls().postgres).port || 5432) };

/** A counter's value from the reaper's own /metrics (whatever default labels the registry adds). */
const counterValue = async (reaper: ReaperHandle, name: string): Promise<number> => {
  const text = await (await fetch(`${reaper.opsUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
};

describe("the reaper's timer", () => {
  test("sweeps once at start, not an interval later", async ({ database, messaging, storage }) => {
    const { db } = database;
    const stale = await rawOutboxRow(db, messaging.topology, new Date(Date.now() - 10 * MINUTE));
    // An hour's interval: only a sweep at start can publish the row within the test.
    const reaper = await start(reaperConfigFromEnv(reaperEnv({ database, messaging, storage }, { CALLFLOW_REAPER_INTERVAL_MS: String(60 * MINUTE) })), { outboxSweeper: false });
    try {
      await waitFor("the start-up sweep to republish the stale outbox row", async () => (await db.outboxEvent.findUniqueOrThrow({ where: { id: stale.id } })).publishedAt);
    } finally {
      await reaper.stop();
    }
  });

  test("a sweep that fails while the database is gone is counted, and the timer carries on once it is back", async ({ database, messaging, storage }) => {
    const gate = await startTcpGate(postgres);
    await gate.open();
    const env = reaperEnv({ database: { url: gate.url(database.url) }, messaging, storage }, { CALLFLOW_REAPER_INTERVAL_MS: "200" });
    const reaper = await start(reaperConfigFromEnv(env), { outboxSweeper: false });
    try {
      await gate.shut();
      await waitFor("a failed sweep to be counted", async () => (await counterValue(reaper, "callflow_reaper_sweep_failures_total")) > 0, { timeoutMs: 30_000 });

      await gate.open();
      const stale = await rawOutboxRow(database.db, messaging.topology, new Date(Date.now() - 10 * MINUTE));
      await waitFor(
        "a sweep after the database came back to republish a stale row",
        async () => (await database.db.outboxEvent.findUniqueOrThrow({ where: { id: stale.id } })).publishedAt,
        { timeoutMs: 30_000 },
      );
    } finally {
      await reaper.stop();
      await gate.shut();
    }
  });
});
