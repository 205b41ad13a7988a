import { DatabaseUnreachableError } from "@callflow/db";
import { freePort, settlesWithin, startTcpGate, testInfraUrls, waitFor } from "@callflow/testkit";
import { makeAudio } from "./support/audio.ts";
import { describe, expect, startIngestUnderTest, test } from "./support/ingest-fixture.ts";

const postgres = { host: "127.0.0.1", port: Number(new URL(testInfraUrls().postgres).port || 5432) };

describe("ingest started while Postgres is unreachable", () => {
  test("waits for Postgres, then accepts an authenticated upload and reports postgres not ready while it is lost", async ({ database, messaging, storage }) => {
    const gate = await startTcpGate(postgres);
    const port = await freePort();
    const starting = startIngestUnderTest(
      { database: { url: gate.url(database.url), db: database.db }, messaging, storage },
      { CALLFLOW_DATABASE_WAIT_MS: "60000", CALLFLOW_INGEST_PORT: String(port) },
    );
    try {
      // Refused connections used to fail start() within milliseconds; now it is still trying seconds later.
      expect(await settlesWithin(starting, 2_500)).toBe(false);
      // While it waits the port answers: alive, not ready, and the API says it is starting.
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const waiting = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(waiting.status).toBe(503);
      expect(await waiting.json()).toMatchObject({ checks: { startup: "waiting for Postgres" } });
      const early = await fetch(`http://127.0.0.1:${port}/v1/calls`);
      expect(early.status).toBe(503);
      expect(early.headers.get("retry-after")).toBe("5");
      expect(await early.json()).toMatchObject({ error: { code: "starting" } });
      await gate.open();
      const ingest = await starting;
      try {
        expect((await ingest.api("/readyz", { key: null })).status).toBe(200);
        const response = await ingest.api("/v1/calls", { method: "POST", body: await makeAudio("wav") });
        expect(response.status).toBe(202);
        const { id } = (await response.json()) as { id: string };
        expect(await database.db.call.count({ where: { id } })).toBe(1);

        await gate.shut();
        const lost = await waitFor("readiness to see Postgres gone", async () => {
          const ready = await ingest.api("/readyz", { key: null });
          return ready.status === 503 ? ((await ready.json()) as { checks: Record<string, unknown> }) : undefined;
        });
        expect(lost.checks.postgres).toEqual(expect.any(String));
        expect((await ingest.api("/healthz", { key: null })).status).toBe(200);
        await gate.open();
        await waitFor("readiness to see Postgres back", async () => (await ingest.api("/readyz", { key: null })).status === 200);
      } finally {
        await ingest.stop();
      }
    } finally {
      await starting.catch(() => undefined);
      await gate.shut();
    }
  });

  test("exits after the wait limit naming the database host and the limit", async ({ database, messaging, storage }) => {
    const gate = await startTcpGate(postgres);
    const error = await startIngestUnderTest({ database: { url: gate.url(database.url), db: database.db }, messaging, storage }, { CALLFLOW_DATABASE_WAIT_MS: "2000" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseUnreachableError);
    expect((error as Error).message).toContain(`Postgres at 127.0.0.1:${gate.port} was not reachable within 2000 ms`);
  });
});
