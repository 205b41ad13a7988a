import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { decodeEvent } from "@callflow/contracts";
import { createMetrics, startTelemetry } from "@callflow/telemetry";
import { expect, test, waitFor } from "@callflow/testkit";
import { commitWithEvents, createOutboxRelay, type Publisher } from "../src/outbox.ts";
import { createTestPublisher, declareTestStreams, jetStreamOf, streamMessageCount, testLogger } from "./fixtures/outbox-support.ts";

const repoRoot = path.resolve(import.meta.dirname, "../../..");
const tsx = path.join(repoRoot, "node_modules/.bin/tsx");
const childScript = path.join(import.meta.dirname, "fixtures/outbox-child-commit.ts");

/** Counts publish calls per message id, to prove which rows a relay sent and how often. */
const countingPublisher = (inner: Publisher, calls: Map<string, number>): Publisher => ({
  publish: (subject, payload, options) => {
    calls.set(options.msgId, (calls.get(options.msgId) ?? 0) + 1);
    return inner.publish(subject, payload, options);
  },
});

test("a producer killed between commit and publish has its event published exactly once by the relay", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  const callsStream = t.stream("calls");

  const child = spawn(tsx, [childScript], {
    cwd: repoRoot,
    env: { ...process.env, CALLFLOW_DATABASE_URL: database.url, CALLFLOW_NAMESPACE: messaging.namespace },
    stdio: ["ignore", "pipe", "inherit"],
    // Its own process group: tsx runs the script in a child process, and both must die at once.
    detached: true,
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  const killChild = () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
  };
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
  const outboxId = await waitFor("the child to commit and start publishing", () => {
    if (child.exitCode !== null) throw new Error(`the child exited with ${child.exitCode}`);
    const committed = lines.some((line) => line.startsWith("committed "));
    return committed ? lines.find((line) => line.startsWith("publishing "))?.slice("publishing ".length) : undefined;
  }).finally(killChild);
  expect(await exited).toBe("SIGKILL");

  // The state change and its event are durable; nothing reached the stream.
  const row = await db.outboxEvent.findUniqueOrThrow({ where: { id: outboxId } });
  expect(row.publishedAt).toBeNull();
  expect(row.subject).toBe(t.subject("callUploadFinished"));
  const event = decodeEvent("callUploadFinished", row.payload);
  expect(await db.call.findUniqueOrThrow({ where: { id: event.callId } })).toMatchObject({ status: "processing" });
  expect(await streamMessageCount(jsm, callsStream)).toBe(0);

  // Two relays sweep at once, and someone publishes the same outbox id again by hand.
  const publisher = createTestPublisher(js);
  const metricsA = createMetrics({ service: "relay-a" });
  const metricsB = createMetrics({ service: "relay-b" });
  const relays = [metricsA, metricsB].map((metrics) =>
    createOutboxRelay({ db, publisher, logger: testLogger(), metrics, staleAfterMs: 300, sweepEveryMs: 50 }),
  );
  relays.forEach((relay) => relay.start());
  try {
    await waitFor("the relays to publish the orphaned row", async () =>
      (await db.outboxEvent.findUniqueOrThrow({ where: { id: outboxId } })).publishedAt !== null,
    );
    const again = await publisher.publish(row.subject, row.payload, { msgId: outboxId });
    expect(again.duplicate).toBe(true);
    expect(await Promise.all(relays.map((relay) => relay.sweep()))).toEqual([0, 0]);
  } finally {
    await Promise.all(relays.map((relay) => relay.stop()));
  }

  expect(await streamMessageCount(jsm, callsStream)).toBe(1);
  const stored = await jsm.streams.getMessage(callsStream, { seq: 1 });
  expect(stored?.subject).toBe(row.subject);
  expect(stored?.header.get("Nats-Msg-Id")).toBe(outboxId);
  expect(decodeEvent("callUploadFinished", stored!.data)).toMatchObject({ callId: event.callId, chunkCount: 1 });
  const published = await Promise.all([metricsA, metricsB].map(async (m) => (await m.outboxPublished.get()).values[0]?.value ?? 0));
  expect(published[0]! + published[1]!).toBe(1);
  expect((await metricsA.outboxOldestAge.get()).values[0]?.value).toBe(0);
});

test("two relays sweeping 200 rows at once publish each row exactly once", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);

  const ids = await commitWithEvents(db, t, async (_tx, emit) => {
    const emitted: string[] = [];
    for (let index = 0; index < 200; index++) {
      emitted.push(await emit("chunkReady", { tenantId: "t", callId: "c", chunkId: `chunk-${index}`, chunkIndex: index, attempt: 1 }));
    }
    return emitted;
  });

  const calls = [new Map<string, number>(), new Map<string, number>()];
  const relays = calls.map((counts) =>
    createOutboxRelay({ db, publisher: countingPublisher(createTestPublisher(js), counts), logger: testLogger(), staleAfterMs: 0, batch: 25 }),
  );
  const drain = async (relay: (typeof relays)[number]) => {
    while ((await relay.sweep()) > 0);
  };
  await Promise.all(relays.map(drain));

  expect(await db.outboxEvent.count({ where: { publishedAt: null } })).toBe(0);
  const sent = [...calls[0]!.entries(), ...calls[1]!.entries()];
  expect(sent).toHaveLength(200);
  expect(sent.every(([, count]) => count === 1)).toBe(true);
  expect(new Set(sent.map(([id]) => id))).toEqual(new Set(ids));
  expect(await streamMessageCount(jsm, t.stream("calls"))).toBe(200);
});

test("an event queued in a transaction that rolls back is never published", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  const relay = createOutboxRelay({ db, publisher: createTestPublisher(js), logger: testLogger(), staleAfterMs: 0 });

  await expect(
    commitWithEvents(
      db,
      t,
      async (_tx, emit) => {
        await emit("callCompleted", { tenantId: "t", callId: "rolled-back" });
        throw new Error("the state change failed");
      },
      relay,
    ),
  ).rejects.toThrow("the state change failed");
  const committedId = await commitWithEvents(db, t, (_tx, emit) => emit("callCompleted", { tenantId: "t", callId: "kept" }), relay);
  await relay.stop();

  expect(await db.outboxEvent.findMany({ select: { id: true, publishedAt: true } })).toEqual([
    { id: committedId, publishedAt: expect.any(Date) },
  ]);
  expect(await relay.sweep()).toBe(0);
  expect(await streamMessageCount(jsm, t.stream("calls"))).toBe(1);
});

test("an event emitted inside a span is published with that span's trace context", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  const telemetry = startTelemetry({ serviceName: "outbox-test" });
  const relay = createOutboxRelay({ db, publisher: createTestPublisher(js), logger: testLogger() });
  try {
    const traceId = await telemetry.tracer.startActiveSpan("POST /v1/calls", async (span) => {
      await commitWithEvents(db, t, (_tx, emit) => emit("callUploadFinished", { tenantId: "t", callId: "c", chunkCount: 2 }), relay);
      span.end();
      return span.spanContext().traceId;
    });
    await relay.stop();

    const [row] = await db.outboxEvent.findMany();
    expect(row?.headers).toMatchObject({ traceparent: expect.stringContaining(traceId) });
    const stored = await jsm.streams.getMessage(t.stream("calls"), { seq: 1 });
    expect(stored?.header.get("traceparent")).toContain(traceId);
  } finally {
    await telemetry.shutdown();
  }
});

test("a row the reaper gave up is left alone by the relay's sweeper and publishNow", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  const calls = new Map<string, number>();
  const relay = createOutboxRelay({ db, publisher: countingPublisher(createTestPublisher(js), calls), logger: testLogger(), staleAfterMs: 0 });
  const [givenUp, live] = await commitWithEvents(db, t, async (_tx, emit) => [
    await emit("callCompleted", { tenantId: "t", callId: "given-up" }),
    await emit("callCompleted", { tenantId: "t", callId: "live" }),
  ]);
  await db.outboxEvent.update({ where: { id: givenUp }, data: { failedAt: new Date() } });

  expect(await relay.sweep()).toBe(1);
  expect(await relay.publishNow([givenUp])).toBe(0);
  await relay.stop();
  expect([...calls.keys()]).toEqual([live]);
  expect(await db.outboxEvent.findUniqueOrThrow({ where: { id: givenUp } })).toMatchObject({ publishedAt: null, attempts: 0 });
  expect(await streamMessageCount(jsm, t.stream("calls"))).toBe(1);
});

test("publishes that finish while a mark is in flight are marked together, each caller told how many of its rows", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  // Counts the relay's UPDATE … RETURNING statements (its only raw queries outside a sweep).
  let marks = 0;
  const countingDb = new Proxy(db, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (key === "$queryRaw") return (...args: unknown[]) => ((marks += 1), (value as (...a: unknown[]) => unknown).apply(target, args));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const relay = createOutboxRelay({ db: countingDb, publisher: createTestPublisher(js), logger: testLogger() });
  const ids = await Promise.all(
    Array.from({ length: 40 }, (_, index) =>
      commitWithEvents(db, t, (_tx, emit) => emit("chunkReady", { tenantId: "t", callId: "c", chunkId: `chunk-${index}`, chunkIndex: index, attempt: 1 })),
    ),
  );

  const marked = await Promise.all(ids.map((id) => relay.publishNow([id])));
  expect(marked).toEqual(ids.map(() => 1));
  expect(marks).toBeGreaterThan(0);
  expect(marks).toBeLessThan(ids.length / 2);
  expect(await db.outboxEvent.count({ where: { publishedAt: null } })).toBe(0);
  // Published already: nothing to publish or mark again.
  expect(await relay.publishNow(ids)).toBe(0);
  await relay.stop();
  expect(await streamMessageCount(jsm, t.stream("calls"))).toBe(40);
});
