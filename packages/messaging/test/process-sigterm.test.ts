import { jetstreamManager } from "@nats-io/jetstream";
import { expect, test, testInfraUrls, waitFor } from "@callflow/testkit";
import { consumerInfo, createEffectTables, publishChunks, seedChunks, spawnFixture } from "./fixtures/consumer-support.ts";

test("SIGTERM during work: in-flight handlers finish, nothing is redelivered, the process exits 0", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  await createEffectTables(db);
  const chunks = await seedChunks(db, 3);
  const worker = spawnFixture("chunk-worker.ts", {
    CALLFLOW_NATS_URL: testInfraUrls().nats,
    CALLFLOW_DATABASE_URL: database.url,
    CALLFLOW_NAMESPACE: messaging.namespace,
    ACK_WAIT_MS: "5000",
    CONCURRENCY: "3",
    HANDLER_MS: "1500",
    GRACE_MS: "10000",
  });
  const attempts = async () => Number((await db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM test_attempts`)[0]!.n);

  try {
    await waitFor("the worker to start", () => worker.output().includes("ready "), { timeoutMs: 30_000 });
    await publishChunks(messaging.nats, t, chunks);
    await waitFor("all three handlers to be working", async () => (await attempts()) === 3);
    // Still working: none of the effects has happened when the signal arrives.
    expect(await db.chunk.count({ where: { status: "transcribed" } })).toBe(0);

    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  } finally {
    worker.child.kill("SIGKILL");
  }

  const rows = await db.chunk.findMany({ where: { id: { in: chunks } }, select: { status: true, attempt: true } });
  expect(rows).toEqual(chunks.map(() => ({ status: "transcribed", attempt: 1 })));
  const info = await consumerInfo(await jetstreamManager(messaging.nats), t);
  expect(info.num_ack_pending).toBe(0);
  expect(info.num_pending).toBe(0);
  // Three deliveries in the consumer's whole history: none was ever redelivered.
  expect(info.delivered.consumer_seq).toBe(3);
  expect(await attempts()).toBe(3);
}, 60_000);
