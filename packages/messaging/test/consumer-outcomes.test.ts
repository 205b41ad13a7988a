import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { encodeEvent } from "@callflow/contracts";
import { expect, test, waitFor } from "@callflow/testkit";
import { ack, dead, PermanentError, retry, RetryableError } from "../src/outcome.ts";
import { collectingSink, consumeChunks, consumerInfo, publishChunks } from "./fixtures/consumer-support.ts";

test("a retry with a delay is redelivered after that delay, then acknowledged", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const seen: { deliveryCount: number; at: number }[] = [];
  const consumer = await consumeChunks(nats, t, async (_event, ctx) => {
    seen.push({ deliveryCount: ctx.deliveryCount, at: Date.now() });
    return ctx.deliveryCount === 1 ? retry({ afterMs: 1_500 }) : ack();
  });
  try {
    await publishChunks(nats, t, ["c1"]);
    await waitFor("the second delivery", () => seen.length === 2);
  } finally {
    await consumer.stop(1_000);
  }
  expect(seen.map((s) => s.deliveryCount)).toEqual([1, 2]);
  expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(1_400);
  expect(consumer.stats).toMatchObject({ delivered: 2, retried: 1, acked: 1, deadLettered: 0 });
  const info = await consumerInfo(await jetstreamManager(nats), t);
  expect(info.num_ack_pending).toBe(0);
});

test("a RetryableError's Retry-After decides the redelivery delay", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const seen: number[] = [];
  const consumer = await consumeChunks(nats, t, async (_event, ctx) => {
    seen.push(Date.now());
    if (ctx.deliveryCount === 1) throw new RetryableError("provider answered 429", { retryAfterMs: 1_200, code: "rate_limited" });
    return ack();
  });
  try {
    await publishChunks(nats, t, ["c1"]);
    await waitFor("the redelivery", () => seen.length === 2);
  } finally {
    await consumer.stop(1_000);
  }
  expect(seen[1]! - seen[0]!).toBeGreaterThanOrEqual(1_100);
});

test("dead() stores the whole envelope as a dead letter and terminates the message", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const sink = collectingSink();
  let calls = 0;
  const consumer = await consumeChunks(
    nats,
    t,
    async (event) => {
      calls += 1;
      return event.chunkId === "bad" ? dead("unsupported_audio", "codec amr-wb is not supported") : ack();
    },
    { deadLetters: sink },
  );
  const jsm = await jetstreamManager(nats);
  try {
    await publishChunks(nats, t, ["bad", "good"]);
    await waitFor("the dead letter", () => sink.letters.length === 1);
    await waitFor("nothing left pending", async () => (await consumerInfo(jsm, t)).num_ack_pending === 0);
  } finally {
    await consumer.stop(1_000);
  }
  const [letter] = sink.letters;
  expect(letter).toMatchObject({
    stream: t.stream("calls"),
    consumer: t.consumer("transcription").durable,
    subject: t.subject("chunkReady"),
    streamSequence: 1,
    deliveryCount: 1,
    reason: "terminated",
    errorCode: "unsupported_audio",
    errorMessage: "codec amr-wb is not supported",
  });
  expect(letter!.headers["Nats-Msg-Id"]).toEqual(["msg-bad"]);
  expect(Buffer.from(letter!.payload)).toEqual(Buffer.from(encodeEvent("chunkReady", { chunkId: "bad", chunkIndex: 0, attempt: 1 })));
  // Termed, not left to ack_wait: the handler never saw it again.
  expect(calls).toBe(2);
  expect(consumer.stats).toMatchObject({ deadLettered: 1, acked: 1 });
});

test("a PermanentError thrown by a handler is dead-lettered with its code on the first delivery", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const sink = collectingSink();
  const consumer = await consumeChunks(
    nats,
    t,
    async () => {
      throw new PermanentError("chunk_missing", "chunk row does not exist");
    },
    { deadLetters: sink },
  );
  try {
    await publishChunks(nats, t, ["gone"]);
    await waitFor("the dead letter", () => sink.letters.length === 1);
  } finally {
    await consumer.stop(1_000);
  }
  expect(sink.letters[0]).toMatchObject({ reason: "terminated", errorCode: "chunk_missing", errorMessage: "chunk row does not exist", deliveryCount: 1 });
});

test("undecodable bytes and subjects outside the contract go to dead letters without reaching the handler", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const sink = collectingSink();
  const handled: string[] = [];
  const consumer = await consumeChunks(
    nats,
    t,
    async (event) => {
      handled.push(event.chunkId);
      return ack();
    },
    { deadLetters: sink },
  );
  const js = jetstream(nats);
  try {
    // Field 3 (chunk_id) announced as a string of 50 bytes that are not there: not a ChunkReady.
    await js.publish(t.subject("chunkReady"), new Uint8Array([0x1a, 0x32, 0x01]), { msgID: "garbage" });
    await js.publish(`${t.namespace}.calls.transcribe.not_an_event`, encodeEvent("chunkReady", { chunkId: "x" }), { msgID: "stray" });
    await publishChunks(nats, t, ["after"]);
    await waitFor("both dead letters and the good message", () => sink.letters.length === 2 && handled.length === 1);
  } finally {
    await consumer.stop(1_000);
  }
  expect(handled).toEqual(["after"]);
  const bySubject = Object.fromEntries(sink.letters.map((letter) => [letter.subject, letter]));
  expect(bySubject[t.subject("chunkReady")]).toMatchObject({ reason: "undecodable", errorCode: "undecodable", deliveryCount: 1 });
  expect(Array.from(bySubject[t.subject("chunkReady")]!.payload)).toEqual([0x1a, 0x32, 0x01]);
  expect(bySubject[`${t.namespace}.calls.transcribe.not_an_event`]).toMatchObject({ reason: "undecodable", errorCode: "unknown_subject" });
});

test("a failure on the final delivery is dead-lettered as max_deliveries with the last error, and the messages behind it flow", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const sink = collectingSink();
  const attempts: number[] = [];
  const handled: string[] = [];
  const consumer = await consumeChunks(
    nats,
    t,
    async (event, ctx) => {
      if (event.chunkId === "poison") {
        attempts.push(ctx.deliveryCount);
        throw new Error(`provider crashed on attempt ${ctx.deliveryCount}`);
      }
      handled.push(event.chunkId);
      return ack();
    },
    { deadLetters: sink, maxDeliver: 3, retryBackoffMs: [100] },
  );
  try {
    await publishChunks(nats, t, ["poison", "a", "b", "c"]);
    await waitFor("the poison message to be dead-lettered", () => sink.letters.length === 1);
  } finally {
    await consumer.stop(1_000);
  }
  expect(attempts).toEqual([1, 2, 3]);
  expect(handled.sort()).toEqual(["a", "b", "c"]);
  expect(sink.letters[0]).toMatchObject({
    reason: "max_deliveries",
    deliveryCount: 3,
    errorCode: "unclassified",
    errorMessage: "Error: provider crashed on attempt 3",
  });
  const info = await consumerInfo(await jetstreamManager(nats), t);
  expect(info.num_ack_pending).toBe(0);
});

test("no more handlers run at once than the concurrency allows", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  let running = 0;
  let peak = 0;
  let done = 0;
  const consumer = await consumeChunks(
    nats,
    t,
    async () => {
      running += 1;
      peak = Math.max(peak, running);
      // Work that lasts long enough for handlers to overlap: how many overlap is what is measured.
      await new Promise((resolve) => setTimeout(resolve, 20));
      running -= 1;
      done += 1;
      return ack();
    },
    { concurrency: 3 },
  );
  try {
    await publishChunks(nats, t, Array.from({ length: 30 }, (_, i) => `c${i}`));
    await waitFor("all 30 handled", () => done === 30);
  } finally {
    await consumer.stop(1_000);
  }
  expect(peak).toBe(3);
});
