import { jetstreamManager } from "@nats-io/jetstream";
import { expect, test, waitFor } from "@callflow/testkit";
import { ack } from "../src/outcome.ts";
import { consumeChunks, consumerInfo, publishChunks } from "./fixtures/consumer-support.ts";

const ACK_WAIT_MS = 1_000;
/** Works for three ack_waits and a bit, unless shutdown aborts it: the long run is the behaviour under test. */
const slowHandler = (deliveries: number[], finished: number[]) => async (_event: unknown, ctx: { deliveryCount: number; signal: AbortSignal }) => {
  deliveries.push(ctx.deliveryCount);
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 3 * ACK_WAIT_MS + 200);
    ctx.signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  if (!ctx.signal.aborted) finished.push(ctx.deliveryCount);
  return ack();
};

test("a handler running three times longer than ack_wait is delivered once, kept alive by heartbeats", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const deliveries: number[] = [];
  const finished: number[] = [];
  const consumer = await consumeChunks(nats, t, slowHandler(deliveries, finished), { ackWaitMs: ACK_WAIT_MS, concurrency: 1 });
  const jsm = await jetstreamManager(nats);
  try {
    await publishChunks(nats, t, ["long"]);
    await waitFor("the slow handler to finish", () => finished.length === 1, { timeoutMs: 10_000 });
    await waitFor("the ack to land", async () => (await consumerInfo(jsm, t)).num_ack_pending === 0);
  } finally {
    await consumer.stop(1_000);
  }
  expect(deliveries).toEqual([1]);
  const info = await consumerInfo(jsm, t);
  // One delivery in the consumer's whole history: no redelivery ever happened.
  expect(info.delivered.consumer_seq).toBe(1);
  expect(info.num_redelivered).toBe(0);
});

test("without heartbeats the same handler is redelivered while it still runs (the control)", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const deliveries: number[] = [];
  const finished: number[] = [];
  const consumer = await consumeChunks(nats, t, slowHandler(deliveries, finished), {
    ackWaitMs: ACK_WAIT_MS,
    concurrency: 2,
    heartbeatEveryMs: 60_000,
  });
  let finishedWhenRedelivered = -1;
  try {
    await publishChunks(nats, t, ["long"]);
    await waitFor("a redelivery", () => {
      if (deliveries.includes(2)) finishedWhenRedelivered = finished.length;
      return deliveries.includes(2);
    }, { timeoutMs: 10_000 });
  } finally {
    await consumer.stop(100);
  }
  expect(finishedWhenRedelivered).toBe(0);
});
