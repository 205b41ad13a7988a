import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { topology } from "@callflow/contracts";
import { expect, test, uniqueSuffix, waitFor } from "@callflow/testkit";
import { ack } from "../src/outcome.ts";
import { consumeChunks, createEffectTables, publishChunks, startOwnNatsServer } from "./fixtures/consumer-support.ts";

test.for([
  { pulling: "ahead", prefetch: undefined },
  { pulling: "only for free slots", prefetch: 0 },
])("a consumer deleted under a running loop pulling $pulling is declared again and consumption continues", async ({ prefetch }, { messaging }) => {
  const { nats, topology: t } = messaging;
  const handled: string[] = [];
  const consumer = await consumeChunks(
    nats,
    t,
    async (event) => {
      handled.push(event.chunkId);
      return ack();
    },
    prefetch === undefined ? {} : { prefetch },
  );
  const jsm = await jetstreamManager(nats);
  const { stream, durable } = t.consumer("transcription");
  try {
    await publishChunks(nats, t, ["before"]);
    await waitFor("the first message", () => handled.includes("before"));
    await jsm.consumers.delete(stream, durable);
    await publishChunks(nats, t, ["after"]);
    await waitFor("the message published after the deletion", () => handled.includes("after"), { timeoutMs: 15_000 });
  } finally {
    await consumer.stop(1_000);
  }
  expect(consumer.stats.resubscribed).toBeGreaterThanOrEqual(1);
  expect((await jsm.consumers.info(stream, durable)).config.max_deliver).toBe(3);
});

test("a nats-server restart in the middle of a stream loses nothing and applies every effect once", async ({ database }) => {
  const N = 500;
  const server = await startOwnNatsServer();
  const nats = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 200, timeout: 2_000 });
  const t = topology(`t_${uniqueSuffix()}`);
  const { db } = database;
  await createEffectTables(db);
  const keys = Array.from({ length: N }, (_, i) => `m${i}`);

  const consumer = await consumeChunks(
    nats,
    t,
    async (event, ctx) => {
      // A handler's work takes a while, so the restart below lands with messages in flight (the case under test).
      await new Promise((resolve) => setTimeout(resolve, 15));
      await db.$executeRaw`INSERT INTO test_attempts (key, delivery, pid) VALUES (${event.chunkId}, ${ctx.deliveryCount}, ${process.pid})`;
      // The effect is keyed by message: a redelivery after a lost ack finds it applied.
      await db.$executeRaw`INSERT INTO test_effects (key, delivery, pid) VALUES (${event.chunkId}, ${ctx.deliveryCount}, ${process.pid}) ON CONFLICT (key) DO NOTHING`;
      return ack();
    },
    { concurrency: 8, ackWaitMs: 5_000, maxDeliver: 20, pullExpiresMs: 2_000 },
  );
  const effects = async () => Number((await db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM test_effects`)[0]!.n);

  try {
    await publishChunks(nats, t, keys.slice(0, 400));
    await waitFor("consumption to be under way", async () => (await effects()) >= 100);
    await server.kill();
    const appliedAtCrash = await effects();
    await server.start();
    await publishChunks(nats, t, keys.slice(400));
    expect(appliedAtCrash).toBeLessThan(400);
    await waitFor(`all ${N} effects`, async () => (await effects()) === N, { timeoutMs: 45_000 });
  } finally {
    await consumer.stop(2_000);
    await nats.close();
    await server.destroy();
  }

  const applied = await db.$queryRaw<{ key: string }[]>`SELECT key FROM test_effects ORDER BY key`;
  expect(applied.map((row) => row.key)).toEqual([...keys].sort());
  const [attempts] = await db.$queryRaw<{ total: bigint; distinct_keys: bigint }[]>`
    SELECT count(*) AS total, count(DISTINCT key) AS distinct_keys FROM test_attempts`;
  expect(Number(attempts!.distinct_keys)).toBe(N);
  // Redeliveries of messages whose ack died with the server are allowed; a second effect is not.
  expect(Number(attempts!.total)).toBeGreaterThanOrEqual(N);
}, 90_000);
