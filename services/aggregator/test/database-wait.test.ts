import { randomUUID } from "node:crypto";
import { DatabaseUnreachableError } from "@callflow/db";
import { describe, expect, freePort, settlesWithin, startTcpGate, test, testInfraUrls, waitFor } from "@callflow/testkit";
import { start, type AggregatorConfig } from "../src/index.ts";
import { ledgerEventPublisher } from "./support/ledger-events.ts";

const postgres = { host: "127.0.0.1", port: Number(new URL(testInfraUrls().postgres).port || 5432) };

const configFor = (databaseUrl: string, namespace: string, databaseWaitMs: number, opsPort = 0): AggregatorConfig => ({
  databaseUrl,
  databasePoolSize: 4,
  databaseWaitMs,
  natsUrl: testInfraUrls().nats,
  namespace,
  logLevel: process.env.CALLFLOW_TEST_LOG ?? "silent",
  opsPort,
  concurrency: 2,
  ackWaitMs: 10_000,
  maxDeliver: 5,
});

const readiness = async (opsUrl: string) => {
  const response = await fetch(`${opsUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as { checks?: Record<string, unknown> } };
};

describe("a service started while Postgres is unreachable", () => {
  test("waits for Postgres, becomes ready, completes a call, and reports postgres not ready while it is lost again", async ({ database, messaging }) => {
    const gate = await startTcpGate(postgres);
    const { db } = database;
    const opsPort = await freePort();
    const starting = start(configFor(gate.url(database.url), messaging.namespace, 60_000, opsPort), { handleSignals: false });
    const settled = starting.then(() => "started", (error: unknown) => error);
    try {
      // Refused connections used to fail start() within milliseconds; now it is still trying seconds later.
      expect(await settlesWithin(settled, 2_500)).toBe(false);
      // Alive while it waits (no liveness restart), and not ready, saying what it waits for.
      expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
      expect(await readiness(`http://127.0.0.1:${opsPort}`)).toMatchObject({ status: 503, body: { checks: { startup: "waiting for Postgres" } } });
      await gate.open();

      const aggregator = await starting;
      try {
        expect(await readiness(aggregator.opsUrl)).toMatchObject({ status: 200, body: { checks: { postgres: true } } });

        const tenant = await db.tenant.create({ data: { name: "late-postgres" } });
        const call = await db.call.create({ data: { tenantId: tenant.id, source: "upload", status: "processing", uploadFinishedAt: new Date(), expectedChunkCount: 1 } });
        for (const stage of ["transcription", "merge", "summary"] as const) {
          await db.stageRun.create({ data: { tenantId: tenant.id, callId: call.id, stage, status: "succeeded" } });
        }
        const publish = ledgerEventPublisher(messaging.nats, messaging.topology);
        await publish("callMerged", { tenantId: tenant.id, callId: call.id, recordingId: randomUUID() }, "merged");
        await publish("callSummarized", { tenantId: tenant.id, callId: call.id, summaryId: randomUUID() }, "summarized");
        await waitFor("the call completed", async () => (await db.call.findUniqueOrThrow({ where: { id: call.id } })).status === "completed");

        await gate.shut();
        const lost = await waitFor("readiness to see Postgres gone", async () => {
          const ready = await readiness(aggregator.opsUrl);
          return ready.status === 503 ? ready : undefined;
        });
        expect(lost.body.checks?.postgres).toEqual(expect.any(String));
        expect((await fetch(`${aggregator.opsUrl}/healthz`)).status).toBe(200);

        await gate.open();
        await waitFor("readiness to see Postgres back", async () => (await readiness(aggregator.opsUrl)).status === 200);
      } finally {
        await aggregator.stop();
      }
    } finally {
      await settled;
      await gate.shut();
    }
  }, 120_000); // Postgres is cut off and restored twice: on a loaded 2-core machine that alone can take most of a minute.

  test("exits after the wait limit with a message naming the database host and the limit", async ({ database, messaging }) => {
    const gate = await startTcpGate(postgres);
    const started = Date.now();
    const error = await start(configFor(gate.url(database.url), messaging.namespace, 2_000), { handleSignals: false }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;

    expect(error).toBeInstanceOf(DatabaseUnreachableError);
    expect((error as Error).message).toContain(`Postgres at 127.0.0.1:${gate.port} was not reachable within 2000 ms`);
    expect((error as Error).message).toContain("CALLFLOW_DATABASE_WAIT_MS");
    expect((error as DatabaseUnreachableError).attempts).toBeGreaterThan(2);
    expect(elapsed).toBeGreaterThanOrEqual(2_000);
    expect(elapsed).toBeLessThan(15_000);
  });
});
