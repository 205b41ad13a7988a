import { randomUUID } from "node:crypto";
import { AckPolicy, type JsMsg } from "@nats-io/jetstream";
import { decodeEvent, encodeEvent } from "@callflow/contracts";
import { expect, test } from "@callflow/testkit";
import { DeadLetterNotFoundError, DeadLetterNotReplayableError, replayDeadLetter } from "../src/dead-letters/replay.ts";
import { createPostgresDeadLetterSink } from "../src/dead-letters/sink.ts";
import { envelopeOf } from "./fixtures/outbox-poison-driver.ts";
import { createTestPublisher, declareTestStreams, jetStreamOf, relayFor, testLogger } from "./fixtures/outbox-support.ts";

const headersOf = (message: JsMsg): Record<string, string[]> => envelopeOf(message).headers;

test("a replayed dead letter reaches a consumer with its original subject, headers and payload", async ({ database, messaging }) => {
  const { db } = database;
  const t = messaging.topology;
  const { js, jsm } = await jetStreamOf(messaging.nats);
  await declareTestStreams(jsm, t);
  const publisher = createTestPublisher(js);
  const sink = createPostgresDeadLetterSink({ db, topology: t, relay: relayFor(db, publisher), logger: testLogger() });

  const original = encodeEvent("callTranscribed", { tenantId: randomUUID(), callId: randomUUID(), transcriptId: randomUUID(), audioVersion: 1 });
  const headers = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", baggage: "tenant=acme" };
  await publisher.publish(t.subject("callTranscribed"), original, { msgId: "call-transcribed-1", headers });
  const { stream, durable, filterSubject } = t.consumer("summary");
  await jsm.consumers.add(stream, { durable_name: durable, filter_subject: filterSubject, ack_policy: AckPolicy.Explicit });
  const summary = await js.consumers.get(stream, durable);
  const first = (await summary.next({ expires: 5_000 }))!;
  await sink.record({ ...envelopeOf(first), reason: "terminated", errorCode: "llm_refused", errorMessage: "the model refused the transcript" });
  first.term();
  const letter = await db.deadLetter.findFirstOrThrow();

  const seq = await replayDeadLetter({ db, publisher }, letter.id);

  const replayed = (await summary.next({ expires: 5_000 }))!;
  replayed.ack();
  expect(replayed.seq).toBe(seq);
  expect(replayed.subject).toBe(t.subject("callTranscribed"));
  expect(Buffer.from(replayed.data)).toEqual(Buffer.from(original));
  expect(decodeEvent("callTranscribed", replayed.data)).toEqual(decodeEvent("callTranscribed", original));
  expect(headersOf(replayed)).toEqual({
    traceparent: [headers.traceparent],
    baggage: [headers.baggage],
    "Nats-Msg-Id": [`${letter.id}:replay:1`],
  });
  expect(await db.deadLetter.findUniqueOrThrow({ where: { id: letter.id } })).toMatchObject({ replayCount: 1, replayedAt: expect.any(Date) });

  // A second replay is a new message, not a duplicate of the first.
  const again = await replayDeadLetter({ db, publisher }, letter.id);
  expect(again).toBeGreaterThan(seq);
  expect((await jsm.streams.getMessage(stream, { seq: again }))?.header.get("Nats-Msg-Id")).toBe(`${letter.id}:replay:2`);
  expect((await db.deadLetter.findUniqueOrThrow({ where: { id: letter.id } })).replayCount).toBe(2);
});

test("replaying a dead letter that does not exist fails with DeadLetterNotFoundError", async ({ database, messaging }) => {
  const { js } = await jetStreamOf(messaging.nats);
  const deps = { db: database.db, publisher: createTestPublisher(js) };

  await expect(replayDeadLetter(deps, randomUUID())).rejects.toBeInstanceOf(DeadLetterNotFoundError);
  await expect(replayDeadLetter(deps, "not-a-uuid")).rejects.toBeInstanceOf(DeadLetterNotFoundError);
});

test("a dead letter stored without its original message refuses replay", async ({ database, messaging }) => {
  const { js } = await jetStreamOf(messaging.nats);
  const t = messaging.topology;
  const letter = await database.db.deadLetter.create({
    data: {
      stream: t.stream("calls"),
      consumer: t.consumer("transcription").durable,
      subject: "",
      streamSequence: 9n,
      headers: {},
      payload: new Uint8Array(),
      deliveryCount: 1,
      reason: "terminated",
      errorCode: "original_unavailable",
      errorMessage: "terminated without a recorded error; sequence 9 is no longer in the stream",
    },
  });

  await expect(replayDeadLetter({ db: database.db, publisher: createTestPublisher(js) }, letter.id)).rejects.toBeInstanceOf(DeadLetterNotReplayableError);
});
