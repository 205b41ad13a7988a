import { decodeEvent, encodeEvent, type EventKey } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { createMetrics } from "@callflow/telemetry";
import { expect, test, waitFor } from "@callflow/testkit";
import { createPostgresDeadLetterSink } from "../src/dead-letters/sink.ts";
import type { DeadLetterHook } from "../src/envelope.ts";
import { driveConsumer } from "./fixtures/outbox-poison-driver.ts";
import { createTestPublisher, declareTestStreams, jetStreamOf, relayFor, seedChunk, testLogger, withHook } from "./fixtures/outbox-support.ts";

/** What a transcription service provides: the chunk an event names is marked failed with the error. */
const markChunkFailed = (db: Db, calls: { event: EventKey; reason: string }[]): DeadLetterHook =>
  async (payload, { eventKey: event, reason, errorCode, errorMessage }) => {
    calls.push({ event, reason });
    if ("chunkId" in payload) {
      await db.chunk.updateMany({ where: { id: payload.chunkId }, data: { status: "failed", errorCode, errorMessage } });
    }
  };

test("a poison message is dead-lettered whole, its chunk marked failed, and the messages behind it keep flowing", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  const publisher = createTestPublisher(js);
  const metrics = createMetrics({ service: "dead-letter-test" });
  const hookCalls: { event: EventKey; reason: string }[] = [];
  const sink = withHook(createPostgresDeadLetterSink({ db, topology: t, relay: relayFor(db, publisher), logger: testLogger(), metrics }), markChunkFailed(db, hookCalls));

  const { tenantId, callId, chunkId } = await seedChunk(db);
  const poison = encodeEvent("chunkReady", { tenantId, callId, chunkId, chunkIndex: 0, attempt: 1 });
  const poisonHeaders = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "x-request-id": "req-poison" };
  await publisher.publish(t.subject("chunkReady"), poison, { msgId: "poison-1", headers: poisonHeaders });
  const undecodable = new TextEncoder().encode("not a protobuf message");
  await publisher.publish(t.subject("chunkReady"), undecodable, { msgId: "garbage-1" });
  const goodChunks = ["good-1", "good-2", "good-3", "good-4", "good-5"];
  for (const good of goodChunks) {
    await publisher.publish(t.subject("chunkReady"), encodeEvent("chunkReady", { tenantId, callId, chunkId: good, chunkIndex: 1, attempt: 1 }), { msgId: good });
  }

  const handled: string[] = [];
  const consumer = await driveConsumer({
    js,
    jsm,
    topology: t,
    consumer: "transcription",
    maxDeliver: 3,
    sink,
    handler: async (_event, payload) => {
      if (!("chunkId" in payload)) throw new Error("not a chunk event");
      if (payload.chunkId === chunkId) throw new Error("provider rejected the audio: unsupported codec");
      handled.push(payload.chunkId);
    },
  });
  try {
    await waitFor("both bad messages to be dead-lettered", async () => (await db.deadLetter.count()) === 2);
    await waitFor("the good messages to be handled", () => handled.length === goodChunks.length);
  } finally {
    await consumer.stop();
  }
  expect(handled.sort()).toEqual(goodChunks);

  const { durable } = t.consumer("transcription");
  const poisoned = await db.deadLetter.findFirstOrThrow({ where: { reason: "max_deliveries" } });
  expect(poisoned).toMatchObject({
    stream: t.stream("calls"),
    consumer: durable,
    subject: t.subject("chunkReady"),
    streamSequence: 1n,
    deliveryCount: 3,
    errorCode: "handler_failed",
    errorMessage: "provider rejected the audio: unsupported codec",
    entityType: "chunk",
    entityId: chunkId,
    tenantId,
    replayCount: 0,
  });
  expect(Buffer.from(poisoned.payload)).toEqual(Buffer.from(poison));
  expect(poisoned.headers).toEqual({
    "Nats-Msg-Id": ["poison-1"],
    traceparent: [poisonHeaders.traceparent],
    "x-request-id": ["req-poison"],
  });
  expect(await db.chunk.findUniqueOrThrow({ where: { id: chunkId } })).toMatchObject({
    status: "failed",
    errorCode: "handler_failed",
    errorMessage: "provider rejected the audio: unsupported codec",
  });

  const garbage = await db.deadLetter.findFirstOrThrow({ where: { reason: "undecodable" } });
  expect(garbage).toMatchObject({ streamSequence: 2n, deliveryCount: 1, errorCode: "undecodable", entityType: null, entityId: null, tenantId: null });
  expect(garbage.errorMessage).toContain("cannot decode chunkReady");
  expect(Buffer.from(garbage.payload)).toEqual(Buffer.from(undecodable));
  expect(hookCalls).toEqual([{ event: "chunkReady", reason: "max_deliveries" }]);

  // Each dead letter is announced once on the dead-letter stream, through the outbox.
  const announced = await waitFor("both messageDeadLettered events", async () => {
    const info = await jsm.streams.info(t.stream("deadLetters"));
    return info.state.messages === 2 ? info : undefined;
  });
  const events = await Promise.all(
    [announced.state.first_seq, announced.state.last_seq].map(async (seq) =>
      decodeEvent("messageDeadLettered", (await jsm.streams.getMessage(t.stream("deadLetters"), { seq }))!.data),
    ),
  );
  expect(events.map((event) => event.deadLetterId).sort()).toEqual([poisoned.id, garbage.id].sort());
  expect(events.find((event) => event.deadLetterId === poisoned.id)).toMatchObject({ consumer: durable, streamSequence: 1n });
  expect((await metrics.deadLetters.get()).values).toEqual([expect.objectContaining({ value: 2, labels: { stage: "transcription" } })]);
});

test("recording the same dead letter again changes nothing and does not mark the entity twice", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  const hookCalls: { event: EventKey; reason: string }[] = [];
  // Two sinks, as in two processes of the same consumer.
  const [sinkA, sinkB] = [1, 2].map(() =>
    withHook(createPostgresDeadLetterSink({ db, topology: t, relay: relayFor(db, createTestPublisher(js)), logger: testLogger() }), markChunkFailed(db, hookCalls)),
  );
  const { tenantId, callId, chunkId } = await seedChunk(db);
  const envelope = {
    stream: t.stream("calls"),
    consumer: t.consumer("transcription").durable,
    subject: t.subject("chunkReady"),
    streamSequence: 7,
    headers: {},
    payload: encodeEvent("chunkReady", { tenantId, callId, chunkId, chunkIndex: 0, attempt: 2 }),
    deliveryCount: 5,
    reason: "max_deliveries" as const,
    errorCode: "provider_timeout",
    errorMessage: "no transcript within 90 s",
  };

  await Promise.all([sinkA!.record(envelope), sinkB!.record(envelope), sinkB!.record({ ...envelope, errorMessage: "a later attempt" })]);

  expect(await db.deadLetter.findMany({ select: { errorMessage: true } })).toHaveLength(1);
  expect(hookCalls).toHaveLength(1);
  expect(await db.outboxEvent.count({ where: { subject: t.subject("messageDeadLettered") } })).toBe(1);
});

test("a failing entity hook stores nothing, so the next attempt marks the entity", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  const { tenantId, callId, chunkId } = await seedChunk(db);
  let failNext = true;
  const hookCalls: { event: EventKey; reason: string }[] = [];
  const markFailed = markChunkFailed(db, hookCalls);
  const sink = withHook(createPostgresDeadLetterSink({ db, topology: t, relay: relayFor(db, createTestPublisher(js)), logger: testLogger() }), async (payload, failure) => {
    if (failNext) {
      failNext = false;
      throw new Error("database connection reset");
    }
    await markFailed(payload, failure);
  });
  const envelope = {
    stream: t.stream("calls"),
    consumer: t.consumer("transcription").durable,
    subject: t.subject("chunkReady"),
    streamSequence: 3,
    headers: {},
    payload: encodeEvent("chunkReady", { tenantId, callId, chunkId, chunkIndex: 0, attempt: 1 }),
    deliveryCount: 3,
    reason: "terminated" as const,
    errorCode: "unsupported_audio",
    errorMessage: "codec not supported",
  };

  await expect(sink.record(envelope)).rejects.toThrow("database connection reset");
  expect(await db.deadLetter.count()).toBe(0);
  expect(await db.outboxEvent.count()).toBe(0);

  await sink.record(envelope);
  expect(await db.deadLetter.count()).toBe(1);
  expect(await db.chunk.findUniqueOrThrow({ where: { id: chunkId } })).toMatchObject({ status: "failed", errorCode: "unsupported_audio" });
});
