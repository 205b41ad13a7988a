import { jetstreamManager } from "@nats-io/jetstream";
import { expect, test, testInfraUrls, waitFor } from "@callflow/testkit";
import { consumerInfo, createEffectTables, publishChunks, seedChunks, spawnFixture } from "./fixtures/consumer-support.ts";

// Long enough that a loaded machine, starving the worker's heartbeat for a second or two, does not
// redeliver a message the first worker still holds (which would then surface as delivery 3).
const ACK_WAIT_MS = 5_000;

interface Attempt {
  key: string;
  delivery: number;
  pid: number;
  at: Date;
}

test("a handler process killed mid-message: the message is redelivered after ack_wait and its effect happens once", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  await createEffectTables(db);
  // beforeEffect: killed while working; afterEffect: killed after its effect committed, before the ack.
  const [beforeEffect, afterEffect] = await seedChunks(db, 2);
  const env = {
    CALLFLOW_NATS_URL: testInfraUrls().nats,
    CALLFLOW_DATABASE_URL: database.url,
    CALLFLOW_NAMESPACE: messaging.namespace,
    ACK_WAIT_MS: String(ACK_WAIT_MS),
    CONCURRENCY: "2",
  };
  const attempts = () => db.$queryRaw<Attempt[]>`SELECT key, delivery, pid, at FROM test_attempts ORDER BY at`;
  const chunk = (id: string) => db.chunk.findUniqueOrThrow({ where: { id }, select: { status: true, attempt: true } });

  const first = spawnFixture("chunk-worker.ts", { ...env, HANG_BEFORE_EFFECT: beforeEffect!, HANG_AFTER_EFFECT: afterEffect! });
  let second: ReturnType<typeof spawnFixture> | undefined;
  try {
    await waitFor("the first worker to start", () => first.output().includes("ready "), { timeoutMs: 30_000 });
    await publishChunks(messaging.nats, t, [beforeEffect!, afterEffect!]);
    await waitFor("one handler mid-work and the other past its effect", async () =>
      (await attempts()).length === 2 && (await chunk(afterEffect!)).status === "transcribed");

    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");

    second = spawnFixture("chunk-worker.ts", env);
    await waitFor("both messages redelivered to the second worker", async () => (await attempts()).length === 4, { timeoutMs: 30_000 });
    await waitFor("the interrupted chunk transcribed", async () => (await chunk(beforeEffect!)).status === "transcribed");
    const jsm = await jetstreamManager(messaging.nats);
    await waitFor("both redeliveries acknowledged", async () => (await consumerInfo(jsm, t)).num_ack_pending === 0);
  } finally {
    first.child.kill("SIGKILL");
    second?.child.kill("SIGTERM");
    await second?.exited;
  }

  // The effect happened once for each: a compare-and-set would have counted a second one.
  expect(await chunk(beforeEffect!)).toEqual({ status: "transcribed", attempt: 1 });
  expect(await chunk(afterEffect!)).toEqual({ status: "transcribed", attempt: 1 });

  const all = await attempts();
  for (const key of [beforeEffect!, afterEffect!]) {
    const [initial, redelivery] = all.filter((attempt) => attempt.key === key);
    expect(initial).toMatchObject({ delivery: 1, pid: first.child.pid });
    // Delivery 2 as a rule; 3 when a loaded machine starved the first worker's heartbeat before the
    // kill, so JetStream lent the message to it again, where it waited for a slot and died unseen.
    expect(redelivery).toMatchObject({ pid: second!.child.pid });
    expect(redelivery!.delivery).toBeGreaterThanOrEqual(2);
    // Not handed over early: JetStream waited out the ack deadline the dead process left behind. The
    // first attempt's time is taken in the handler, a little after the server's clock started.
    expect(redelivery!.at.getTime() - initial!.at.getTime()).toBeGreaterThanOrEqual(ACK_WAIT_MS * 0.9);
  }
}, 90_000);
