import { jetstreamManager } from "@nats-io/jetstream";
import { expectedMigrations, MigrationDriftError } from "@callflow/db";
import { createEmptyDatabase, expect, test, testInfraUrls } from "@callflow/testkit";
import { ack } from "../src/outcome.ts";
import { declareTopology, TopologyDriftError } from "../src/topology.ts";
import { defineConsumer } from "../src/runtime.ts";
import { startTestWorker, type TestWorkerOptions } from "./fixtures/test-worker.ts";

const workerOptions = (databaseUrl: string, namespace: string, maxDeliver: number): TestWorkerOptions => ({
  service: "startup-test",
  natsUrl: testInfraUrls().nats,
  databaseUrl,
  namespace,
  consumers: [defineConsumer({ declaration: { key: "transcription", ackWaitMs: 30_000, maxDeliver }, concurrency: 1, handler: async () => ack() })],
});

test("a worker refuses to start when its consumer exists with a different max_deliver, naming it", async ({ database, messaging }) => {
  const t = messaging.topology;
  await declareTopology(await jetstreamManager(messaging.nats), t, [{ key: "transcription", ackWaitMs: 30_000, maxDeliver: 5 }]);

  const started = startTestWorker(workerOptions(database.url, messaging.namespace, 10));

  await expect(started).rejects.toBeInstanceOf(TopologyDriftError);
  await expect(started).rejects.toThrow(
    `consumer ${t.stream("calls")}/${t.consumer("transcription").durable} has drifted: max_deliver is 5 on the server but this code declares 10`,
  );
});

test("a worker refuses to start at once on a database that is not migrated, naming the missing migration", async ({ messaging }) => {
  const empty = await createEmptyDatabase(testInfraUrls().postgres);
  try {
    const began = Date.now();
    // A database that answers but is behind is not waited for, however long the wait may be.
    const started = startTestWorker({ ...workerOptions(empty.url, messaging.namespace, 5), databaseWaitMs: 120_000 });
    await expect(started).rejects.toBeInstanceOf(MigrationDriftError);
    await expect(started).rejects.toThrow(`database schema does not match this code; not applied: ${(await expectedMigrations())[0]}`);
    expect(Date.now() - began).toBeLessThan(10_000);
  } finally {
    await empty.drop();
  }
});

test("a started worker reports ready and stops cleanly", async ({ database, messaging }) => {
  const worker = await startTestWorker(workerOptions(database.url, messaging.namespace, 5));
  try {
    expect((await fetch(`${worker.opsUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${worker.opsUrl}/readyz`)).status).toBe(200);
  } finally {
    await worker.stop();
  }
  expect(worker.consumers.every((consumer) => !consumer.stats.bound)).toBe(true);
  expect(worker.context.nats.isClosed()).toBe(true);
  await expect(fetch(`${worker.opsUrl}/healthz`)).rejects.toThrow();
});
