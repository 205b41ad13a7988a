// Publish → consume → ack throughput of N messages through raw nats.js and through the Callflow
// runtime (createPublisher + startConsumer with a no-op handler), against the same nats-server in
// the same run. Each side gets its own namespace (streams and durable consumer), publishes with a
// window of in-flight PubAcks, and consumes while it publishes; the clock stops at the N-th ack.
//
// Two configurations, each in a process of its own (OpenTelemetry's SDK is process-wide):
// - the default, no trace exporter: no span is recorded, trace context still travels (the target applies);
// - every span recorded and handed to an exporter (BENCH_MESSAGING_RECORD_SPANS=1), run after it
//   as a child process, for what full tracing costs.
//
// Both sides are warmed up first, then measured in rounds of one raw and one runtime run each, in
// alternating order. The machine's speed drifts (two cores, shared with nats-server), so the headline
// is the median of the rounds' runtime/raw ratios, each taken from two runs seconds apart.
//
// Run: npx tsx bench/messaging.ts   (BENCH_MESSAGES, BENCH_WINDOW, BENCH_CONCURRENCY, BENCH_PREFETCH, BENCH_ROUNDS)
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { encodeEvent, topology, type Topology } from "../packages/contracts/src/index.ts";
import { createLogger, createMetrics, startTelemetry } from "../packages/telemetry/src/index.ts";
import { ack, createPublisher, declareTopology, startConsumer } from "../packages/messaging/src/index.ts";
import { connect, context, jetstream, jetstreamManager, type JsMsg } from "../packages/messaging/test/fixtures/client-libraries.ts";

const N = Number(process.env.BENCH_MESSAGES ?? 20_000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const PREFETCH = Number(process.env.BENCH_PREFETCH ?? 100);
const NATS_URL = process.env.CALLFLOW_NATS_URL ?? "nats://127.0.0.1:4222";
const TARGET_RATIO = 0.8;
const DECLARATION = { key: "transcription", ackWaitMs: 30_000, maxDeliver: 5 } as const;

// The options startWorker connects with; noAsyncTraces spares an Error (and its stack) per publish.
const nats = await connect({ servers: NATS_URL, noAsyncTraces: true });
const jsm = await jetstreamManager(nats);
const js = jetstream(nats);
const RECORD_SPANS = process.env.BENCH_MESSAGING_RECORD_SPANS === "1";
// Spans are created and ended as in production. Recording: an exporter that accepts and drops them,
// so the SDK does all its work (attributes, batching) without a network in the measurement.
const telemetry = startTelemetry({
  serviceName: "bench-messaging",
  ...(RECORD_SPANS ? { exporter: { export: (_spans, done) => done({ code: 0 }), shutdown: async () => undefined } } : {}),
});
const logger = createLogger({ service: "bench-messaging", level: "warn" });
const tenantId = randomUUID();
const callId = randomUUID();

const payloads = Array.from({ length: N }, (_, i) => encodeEvent("chunkReady", { tenantId, callId, chunkId: randomUUID(), chunkIndex: i, attempt: 1 }));

/** Keeps at most WINDOW publishes awaiting their PubAck. */
async function publishWindowed(publishOne: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < N) await publishOne(next++);
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
}

async function freshNamespace(label: string): Promise<Topology> {
  const t = topology(`bench_${label}_${Date.now().toString(36)}`);
  await declareTopology(jsm, t, [DECLARATION]);
  return t;
}

const dropNamespace = async (t: Topology) => {
  for (const name of [t.stream("calls"), t.stream("dials"), t.stream("deadLetters")]) await jsm.streams.delete(name);
};

async function raw(): Promise<number> {
  const t = await freshNamespace("raw");
  const { stream, durable } = t.consumer(DECLARATION.key);
  const subject = t.subject("chunkReady");
  const consumer = await js.consumers.get(stream, durable);
  const messages = await consumer.consume();
  const started = performance.now();
  const consumed = (async () => {
    let acked = 0;
    for await (const msg of messages as AsyncIterable<JsMsg>) {
      msg.ack();
      if (++acked === N) break;
    }
  })();
  await publishWindowed((i) => js.publish(subject, payloads[i]!, { msgID: `raw-${i}` }));
  if (process.env.BENCH_DEBUG) console.log(`raw published in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  await consumed;
  const seconds = (performance.now() - started) / 1000;
  await messages.close();
  await dropNamespace(t);
  return N / seconds;
}

async function runtime(): Promise<number> {
  const t = await freshNamespace("runtime");
  const subject = t.subject("chunkReady");
  const publisher = createPublisher({ js, tracer: telemetry.tracer });
  let handled = 0;
  let done!: () => void;
  const allHandled = new Promise<void>((resolve) => (done = resolve));
  const running = await startConsumer({
    ...DECLARATION,
    nats,
    topology: t,
    concurrency: CONCURRENCY,
    // The same pull batch as the raw side (nats.js consume()'s default of 100 messages), so the two
    // differ by the runtime's work per message, not by how many pull requests they make.
    prefetch: PREFETCH,
    handler: async () => {
      if (++handled === N) queueMicrotask(done);
      return ack();
    },
    deadLetters: { record: async () => undefined },
    logger,
    metrics: createMetrics({ service: "bench-messaging" }),
    tracer: telemetry.tracer,
  });
  const started = performance.now();
  await publishWindowed((i) => publisher.publish(subject, payloads[i]!, { msgId: `runtime-${i}` }));
  if (process.env.BENCH_DEBUG) console.log(`runtime published in ${((performance.now() - started) / 1000).toFixed(2)} s, handled ${handled}`);
  await allHandled;
  const seconds = (performance.now() - started) / 1000;
  await running.stop(5_000);
  if (running.stats.acked !== N) throw new Error(`runtime acked ${running.stats.acked} of ${N}`);
  await dropNamespace(t);
  return N / seconds;
}

const format = (rate: number) => `${Math.round(rate).toLocaleString("en-US")} msg/s`;
const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
console.log(
  `${RECORD_SPANS ? "\n[every span recorded and exported] " : ""}publish → consume → ack of ${N} messages, ${WINDOW} publishes in flight, runtime concurrency ${CONCURRENCY}, pull batch ${PREFETCH}, ${NATS_URL}` +
    (RECORD_SPANS ? "" : " (default configuration: no trace exporter, trace context propagated, no span recorded)"),
);

// Reference: nats.js before anything entered an OpenTelemetry context. On Node 20 the first
// context.with() switches on AsyncLocalStorage's promise hooks for the whole process, which every
// Callflow process does (its consumer spans are active contexts), so the rounds below compare raw
// nats.js and the runtime under that same condition.
await raw(); // warm-up: JIT and connection state, not measured
const reference = await raw();
console.log(`reference: raw nats.js without an active OpenTelemetry context ${format(reference)}`);
await context.with(context.active(), async () => undefined);
await runtime(); // warm-up of the runtime's own code, not measured

const rawRates: number[] = [];
const runtimeRates: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  if (round % 2 === 1) {
    rawRates.push(await raw());
    runtimeRates.push(await runtime());
  } else {
    runtimeRates.push(await runtime());
    rawRates.push(await raw());
  }
  console.log(`round ${round}: raw nats.js ${format(rawRates.at(-1)!)}, runtime ${format(runtimeRates.at(-1)!)} (${percent(runtimeRates.at(-1)! / rawRates.at(-1)!)})`);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ratios = runtimeRates.map((rate, i) => rate / rawRates[i]!);
const ratio = median(ratios);
console.log(`median: raw nats.js ${format(median(rawRates))}, runtime ${format(median(runtimeRates))}`);
console.log(`rounds' runtime/raw: median ${percent(ratio)}, lowest ${percent(Math.min(...ratios))}, highest ${percent(Math.max(...ratios))}; ratio of the medians ${percent(median(runtimeRates) / median(rawRates))}`);
console.log(
  RECORD_SPANS
    ? `ratio runtime/raw with every span recorded: ${percent(ratio)} (the price of full tracing; the target applies to the default)`
    : `ratio runtime/raw: ${percent(ratio)} (target ≥ ${TARGET_RATIO * 100}%) ${ratio >= TARGET_RATIO ? "PASS" : "BELOW TARGET"}`,
);
console.log(`runtime / reference without OpenTelemetry context: ${percent(median(runtimeRates) / reference)}`);

await nats.drain();
await telemetry.shutdown();
if (!RECORD_SPANS) {
  const recorded = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, BENCH_MESSAGING_RECORD_SPANS: "1" },
    stdio: "inherit",
  });
  if (recorded.status !== 0) console.log(`the recorded-spans run exited with ${recorded.status}`);
  process.exitCode = ratio >= TARGET_RATIO ? 0 : 1;
}
