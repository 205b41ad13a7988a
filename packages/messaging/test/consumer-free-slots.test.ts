import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { expect, test, testInfraUrls, waitFor } from "@callflow/testkit";
import { ack } from "../src/outcome.ts";
import { declareTopology } from "../src/topology.ts";
import { consumeChunks, consumerInfo, publishChunks, transcription } from "./fixtures/consumer-support.ts";

/** Handlers that hold their message until `releaseAll`, recording who took which. */
const blockedHandlers = () => {
  const taken: { key: string; by: string }[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const handler = (by: string) => async (event: { chunkId: string }) => {
    taken.push({ key: event.chunkId, by });
    await released;
    return ack();
  };
  return { taken, handler, releaseAll: release };
};

test("prefetch 0: the server lends a process no more messages than it runs, and a process that joins takes the backlog's next ones", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const jsm = await jetstreamManager(nats);
  const keys = Array.from({ length: 10 }, (_, i) => `m${i}`);
  await declareTopology(jsm, t, [transcription()]);
  await publishChunks(nats, t, keys);
  const { taken, handler, releaseAll } = blockedHandlers();

  const first = await consumeChunks(nats, t, handler("first"), { concurrency: 2, prefetch: 0 });
  const joiner = await connect({ servers: testInfraUrls().nats });
  let second: Awaited<ReturnType<typeof consumeChunks>> | undefined;
  try {
    await waitFor("the first process running two handlers", () => taken.length === 2);
    // Nothing waits in the process: what the server counts as lent is what runs.
    await waitFor("the server's count settled", async () => (await consumerInfo(jsm, t)).num_pending === 8);
    expect((await consumerInfo(jsm, t)).num_ack_pending).toBe(2);

    second = await consumeChunks(joiner, t, handler("second"), { concurrency: 2, prefetch: 0 });
    await waitFor("the joining process running two handlers", () => taken.filter((entry) => entry.by === "second").length === 2);
    expect((await consumerInfo(jsm, t)).num_ack_pending).toBe(4);

    releaseAll();
    await waitFor("every message handled", () => taken.length === keys.length);
    await waitFor("every message acknowledged", async () => {
      const info = await consumerInfo(jsm, t);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
  } finally {
    releaseAll();
    await first.stop(1_000);
    await second?.stop(1_000);
    await joiner.close();
  }
  expect(taken.map((entry) => entry.key).sort()).toEqual([...keys].sort());
  expect(first.stats.delivered + second!.stats.delivered).toBe(keys.length);
});

test("the control: pulling ahead, the server lends a process more messages than it runs", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const jsm = await jetstreamManager(nats);
  await declareTopology(jsm, t, [transcription()]);
  await publishChunks(nats, t, Array.from({ length: 10 }, (_, i) => `m${i}`));
  const { taken, handler, releaseAll } = blockedHandlers();
  const consumer = await consumeChunks(nats, t, handler("ahead"), { concurrency: 2, prefetch: 2 });
  try {
    await waitFor("two handlers running", () => taken.length === 2);
    await waitFor("more lent than running", async () => (await consumerInfo(jsm, t)).num_ack_pending > 2);
  } finally {
    releaseAll();
    await consumer.stop(1_000);
  }
});

test("prefetch 0: stop ends the pull requests still open instead of waiting out their expiry", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const { taken, handler, releaseAll } = blockedHandlers();
  releaseAll();
  // An hour-long pull: stop must close it, or this test runs into its own timeout.
  const consumer = await consumeChunks(nats, t, handler("only"), { prefetch: 0, pullExpiresMs: 3_600_000 });
  await publishChunks(nats, t, ["only"]);
  await waitFor("the message", () => taken.length === 1);
  await consumer.stop(1_000);
  expect(consumer.stats.bound).toBe(false);
  expect(consumer.stats.inFlight).toBe(0);
}, 20_000);
