import { AckPolicy, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { encodeEvent, type EventKey, type Topology } from "@callflow/contracts";
import { expect, test, waitFor } from "@callflow/testkit";
import {
  createPostgresDeadLetterSink,
  DeadLetterNotReplayableError,
  replayDeadLetter,
  startAdvisoryDeadLetterCapture,
} from "../src/dead-letters.ts";
import { envelopeOf } from "./fixtures/outbox-poison-driver.ts";
import type { DeadLetterHook } from "../src/envelope.ts";
import { createTestPublisher, declareTestStreams, jetStreamOf, relayFor, seedChunk, testLogger } from "./fixtures/outbox-support.ts";

/** Every advisory in the stream has been handled and acknowledged by the capture. */
const captureIsIdle = (jsm: JetStreamManager, t: Topology, expectedAdvisories: number) =>
  waitFor(`the capture to acknowledge ${expectedAdvisories} advisories`, async () => {
    const stream = await jsm.streams.info(t.advisoryStream());
    const capture = await jsm.consumers.info(t.advisoryStream(), `${t.namespace}_dead_letter_capture`);
    return (
      stream.state.messages === expectedAdvisories &&
      capture.num_pending === 0 &&
      capture.num_ack_pending === 0 &&
      capture.ack_floor.stream_seq === stream.state.last_seq
    );
  });

test("a message whose consumer hit max_deliver without recording it is dead-lettered once from the advisory", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  const publisher = createTestPublisher(js);
  const hookCalls: { event: EventKey; reason: string; errorMessage: string }[] = [];
  const sink = createPostgresDeadLetterSink({ db, topology: t, relay: relayFor(db, publisher), logger: testLogger() });
  const onDeadLetter: DeadLetterHook = async (payload, { eventKey: event, reason, errorCode, errorMessage }) => {
    hookCalls.push({ event, reason, errorMessage });
    if ("chunkId" in payload) await db.chunk.updateMany({ where: { id: payload.chunkId }, data: { status: "failed", errorCode, errorMessage } });
  };
  const capture = await startAdvisoryDeadLetterCapture({ js, jsm, topology: t, sink, onDeadLetterFor: () => onDeadLetter, logger: testLogger() });

  try {
    // A worker that dies on every delivery: nothing but the server's advisory tells of the message.
    const lost = await seedChunk(db);
    const lostPayload = encodeEvent("chunkReady", { tenantId: lost.tenantId, callId: lost.callId, chunkId: lost.chunkId, chunkIndex: 0, attempt: 1 });
    await publisher.publish(t.subject("chunkReady"), lostPayload, { msgId: "lost-1", headers: { "x-request-id": "req-lost" } });
    const { stream, durable, filterSubject } = t.consumer("transcription");
    await jsm.consumers.add(stream, { durable_name: durable, filter_subject: filterSubject, ack_policy: AckPolicy.Explicit, ack_wait: nanos(1_000), max_deliver: 2 });
    const consumer = await js.consumers.get(stream, durable);
    for (let delivery = 1; delivery <= 2; delivery++) {
      const message = await consumer.next({ expires: 5_000 });
      expect(message?.info.deliveryCount).toBe(delivery);
      message!.nak();
    }
    // The server announces the exhausted message when it next looks for one to deliver.
    expect(await consumer.next({ expires: 1_000 })).toBeNull();

    const letter = await waitFor("the advisory capture to record the lost message", () => db.deadLetter.findFirst());
    expect(letter).toMatchObject({
      stream,
      consumer: durable,
      subject: t.subject("chunkReady"),
      streamSequence: 1n,
      deliveryCount: 2,
      reason: "max_deliveries",
      errorCode: "max_deliveries",
      errorMessage: "delivery limit reached without a recorded error",
      entityType: "chunk",
      entityId: lost.chunkId,
      tenantId: lost.tenantId,
    });
    expect(Buffer.from(letter.payload)).toEqual(Buffer.from(lostPayload));
    expect(letter.headers).toEqual({ "Nats-Msg-Id": ["lost-1"], "x-request-id": ["req-lost"] });
    expect(await db.chunk.findUniqueOrThrow({ where: { id: lost.chunkId } })).toMatchObject({
      status: "failed",
      errorCode: "max_deliveries",
      errorMessage: "delivery limit reached without a recorded error",
    });

    // The usual case: the consume loop records the message itself and terms it; the advisory that
    // follows must not add a second row.
    const recorded = await seedChunk(db);
    await publisher.publish(
      t.subject("chunkReady"),
      encodeEvent("chunkReady", { tenantId: recorded.tenantId, callId: recorded.callId, chunkId: recorded.chunkId, chunkIndex: 0, attempt: 1 }),
      { msgId: "recorded-1" },
    );
    const message = (await consumer.next({ expires: 5_000 }))!;
    await sink.record({ ...envelopeOf(message), reason: "terminated", errorCode: "unsupported_audio", errorMessage: "codec not supported" }, onDeadLetter);
    message.term();

    // An advisory delivered twice (the capture crashed before acking) is a no-op as well.
    const first = (await jsm.streams.getMessage(t.advisoryStream(), { seq: 1 }))!;
    await waitFor("the terminated advisory", async () => (await jsm.streams.info(t.advisoryStream())).state.messages === 2);
    await js.publish(first.subject, first.data);
    await captureIsIdle(jsm, t, 3);
  } finally {
    await capture.stop();
  }

  expect(await db.deadLetter.findMany({ select: { streamSequence: true, reason: true, errorMessage: true }, orderBy: { streamSequence: "asc" } })).toEqual([
    { streamSequence: 1n, reason: "max_deliveries", errorMessage: "delivery limit reached without a recorded error" },
    { streamSequence: 2n, reason: "terminated", errorMessage: "codec not supported" },
  ]);
  expect(hookCalls.map((call) => call.reason)).toEqual(["max_deliveries", "terminated"]);
  expect(await db.outboxEvent.count({ where: { subject: t.subject("messageDeadLettered") } })).toBe(2);
});

test("capturing dead letters without the advisory stream fails at start, naming it", async ({ database, messaging }) => {
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  const sink = createPostgresDeadLetterSink({ db: database.db, topology: t, relay: relayFor(database.db, createTestPublisher(js)), logger: testLogger() });

  await expect(startAdvisoryDeadLetterCapture({ js, jsm, topology: t, sink, logger: testLogger() })).rejects.toThrow(
    `advisory stream ${t.advisoryStream()} is missing`,
  );
});

test("the capture recreates its consumer after it is deleted and keeps recording", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  const publisher = createTestPublisher(js);
  const sink = createPostgresDeadLetterSink({ db, topology: t, relay: relayFor(db, publisher), logger: testLogger() });
  const capture = await startAdvisoryDeadLetterCapture({ js, jsm, topology: t, sink, logger: testLogger() });
  try {
    await jsm.consumers.delete(t.advisoryStream(), `${t.namespace}_dead_letter_capture`);
    const payload = encodeEvent("dialRequested", { tenantId: "t", dialId: "dial-1", attempt: 1 });
    const { seq } = await publisher.publish(t.subject("dialRequested"), payload, { msgId: "dial-1" });
    const { stream, durable } = t.consumer("dialer");
    // The advisory the server would send, in its own format.
    await js.publish(
      `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${durable}`,
      JSON.stringify({ type: "io.nats.jetstream.advisory.v1.max_deliver", stream, consumer: durable, stream_seq: seq, deliveries: 5 }),
    );

    const letter = await waitFor("the recreated capture to record the message", () => db.deadLetter.findFirst());
    expect(letter).toMatchObject({ stream, consumer: durable, deliveryCount: 5, entityType: "dial", entityId: "dial-1" });
    expect(Buffer.from(letter.payload)).toEqual(Buffer.from(payload));
  } finally {
    await capture.stop();
  }
});

test("an advisory for a message already gone from its stream is still recorded, and refuses replay", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  const publisher = createTestPublisher(js);
  const sink = createPostgresDeadLetterSink({ db, topology: t, relay: relayFor(db, publisher), logger: testLogger() });
  const capture = await startAdvisoryDeadLetterCapture({ js, jsm, topology: t, sink, logger: testLogger() });
  try {
    const { seq } = await publisher.publish(t.subject("chunkReady"), new Uint8Array([8, 1]), { msgId: "soon-gone" });
    await jsm.streams.deleteMessage(t.stream("calls"), seq);
    const { stream, durable } = t.consumer("transcription");
    await js.publish(
      `$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${stream}.${durable}`,
      JSON.stringify({ type: "io.nats.jetstream.advisory.v1.terminated", stream, consumer: durable, stream_seq: seq, deliveries: 1 }),
    );

    const letter = await waitFor("the capture to record the missing message", () => db.deadLetter.findFirst());
    expect(letter).toMatchObject({ stream, consumer: durable, streamSequence: BigInt(seq), reason: "terminated", errorCode: "original_unavailable", subject: "" });
    expect(letter.errorMessage).toContain(`sequence ${seq} is no longer in stream ${stream}`);
    await expect(replayDeadLetter({ db, publisher }, letter.id)).rejects.toBeInstanceOf(DeadLetterNotReplayableError);
  } finally {
    await capture.stop();
  }
});
