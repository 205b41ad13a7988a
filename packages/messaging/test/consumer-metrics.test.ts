import { trace } from "@opentelemetry/api";
import { jetstreamManager } from "@nats-io/jetstream";
import { createMetrics } from "@callflow/telemetry";
import { expect, test, testInfraUrls, waitFor } from "@callflow/testkit";
import { startConsumer } from "../src/consumer.ts";
import { ack, PermanentError, RetryableError } from "../src/outcome.ts";
import { declareTopology } from "../src/topology.ts";
import { defineConsumer } from "../src/runtime.ts";
import { startTestWorker } from "./fixtures/test-worker.ts";
import { collectingSink, publishChunks, quietLogger, transcription } from "./fixtures/consumer-support.ts";

/** The value of one sample of the Prometheus text format, or undefined when absent. */
const sample = (text: string, name: string, labels: Record<string, string>): number | undefined => {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf("}"));
    const found = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
};

test("/metrics counts deliveries, redeliveries, handler durations by outcome and dead letters after a known workload", async ({ database, messaging }) => {
  const t = messaging.topology;
  const ok = Array.from({ length: 10 }, (_, i) => `ok-${i}`);
  const flaky = ["flaky-1", "flaky-2"];
  const handled = new Set<string>();
  const worker = await startTestWorker({
    service: "metrics-test",
    natsUrl: testInfraUrls().nats,
    databaseUrl: database.url,
    namespace: messaging.namespace,
    consumers: [
      defineConsumer({
        declaration: { key: "transcription", ackWaitMs: 5_000, maxDeliver: 3 },
        concurrency: 4,
        handler: async (event, ctx) => {
          if (event.chunkId === "poison") throw new PermanentError("unsupported_audio", "codec is not supported");
          if (flaky.includes(event.chunkId) && ctx.deliveryCount === 1) throw new RetryableError("provider answered 503", { retryAfterMs: 100 });
          handled.add(event.chunkId);
          return ack();
        },
      }),
    ],
  });

  let metrics: string;
  try {
    const ready = await fetch(`${worker.opsUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { nats: true, postgres: true, consumers: true } });

    await publishChunks(messaging.nats, t, [...ok, ...flaky, "poison"]);
    await waitFor("the workload to be done", async () => handled.size === 12 && (await database.db.deadLetter.count()) === 1);
    // The dead letter is counted after the row is stored and the message termed.
    await waitFor("the dead letter to be counted", async () =>
      sample(await (await fetch(`${worker.opsUrl}/metrics`)).text(), "callflow_dead_letters_total", { stage: "transcription" }) === 1);
    metrics = await (await fetch(`${worker.opsUrl}/metrics`)).text();
  } finally {
    await worker.stop();
  }

  const stage = { stage: "transcription", service: "metrics-test" };
  expect(sample(metrics, "callflow_deliveries_total", stage)).toBe(15);
  expect(sample(metrics, "callflow_redeliveries_total", stage)).toBe(2);
  expect(sample(metrics, "callflow_handler_duration_seconds_count", { ...stage, outcome: "ack" })).toBe(12);
  expect(sample(metrics, "callflow_handler_duration_seconds_count", { ...stage, outcome: "retry" })).toBe(2);
  expect(sample(metrics, "callflow_handler_duration_seconds_count", { ...stage, outcome: "dead" })).toBe(1);
  expect(sample(metrics, "callflow_dead_letters_total", stage)).toBe(1);
  // Queue wait: once per message (13), at its first delivery only; none of them waited a minute.
  expect(sample(metrics, "callflow_queue_wait_seconds_count", stage)).toBe(13);
  expect(sample(metrics, "callflow_queue_wait_seconds_bucket", { ...stage, le: "60" })).toBe(13);
  expect(metrics).toContain("callflow_process_cpu_user_seconds_total");

  const letter = await database.db.deadLetter.findFirstOrThrow();
  expect(letter).toMatchObject({ reason: "terminated", errorCode: "unsupported_audio", consumer: t.consumer("transcription").durable, deliveryCount: 1 });
}, 60_000);

test("a consumer's counters start at 0, so a dashboard shows no redeliveries or dead letters as 0", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const declaration = transcription();
  await declareTopology(await jetstreamManager(nats), t, [declaration]);
  const metrics = createMetrics({ service: "zero-test" });
  const consumer = await startConsumer({
    ...declaration,
    nats,
    topology: t,
    concurrency: 1,
    handler: async () => ack(),
    deadLetters: collectingSink(),
    logger: quietLogger(),
    metrics,
    tracer: trace.getTracer("test"),
  });
  try {
    const text = await metrics.registry.metrics();
    const stage = { stage: "transcription", service: "zero-test" };
    for (const name of ["callflow_deliveries_total", "callflow_redeliveries_total", "callflow_dead_letters_total"]) expect(sample(text, name, stage), name).toBe(0);
  } finally {
    await consumer.stop(1_000);
  }
});

test("consumer lag reports pending plus unacknowledged messages and falls to zero when they are handled", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const declaration = transcription();
  await declareTopology(await jetstreamManager(nats), t, [declaration]);
  const metrics = createMetrics({ service: "lag-test" });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const consumer = await startConsumer({
    ...declaration,
    nats,
    topology: t,
    concurrency: 1,
    handler: async () => {
      await released;
      return ack();
    },
    deadLetters: collectingSink(),
    logger: quietLogger(),
    metrics,
    tracer: trace.getTracer("lag-test"),
    lagPollMs: 100,
  });
  const lag = async () => (await metrics.consumerLag.get()).values.find((value) => value.labels.consumer === t.consumer("transcription").durable)?.value;
  try {
    await publishChunks(nats, t, ["a", "b", "c", "d", "e"]);
    await waitFor("lag of five", async () => (await lag()) === 5);
    release();
    await waitFor("lag of zero", async () => (await lag()) === 0);
  } finally {
    await consumer.stop(1_000);
  }
});
