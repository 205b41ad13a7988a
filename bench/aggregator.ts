// Fan-in latency of the completeness ledger: from the moment a call's last chunk is terminal (its
// row committed, its chunkTranscribed published) to the moment callTranscribed is on JetStream, at
// a sustained 200 chunks/s; then the most chunks/s the aggregator drains. Real Postgres, real
// JetStream, the aggregator as it runs in production: its own process (services/aggregator/src/main.ts),
// while this one plays the transcription workers (commit a chunk row, publish its event) and merge.
// Run: pnpm --filter @callflow/bench bench:aggregator   (BENCH_AGGREGATOR_SECONDS=20 for a longer run)
import { decodeEvent } from "../packages/contracts/src/index.ts";
import { createDb } from "../packages/db/src/index.ts";
import { testInfraUrls } from "../packages/testkit/src/env.ts";
import { createTestNamespace } from "../packages/testkit/src/nats.ts";
import { createTestDatabase } from "../packages/testkit/src/postgres.ts";
import { spawn, type ChildProcess } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "../services/aggregator/test/support/ledger-events.ts";
import { ledgerEventPublisher } from "../services/aggregator/test/support/ledger-events.ts";
import { finishUpload, seedRecorderCalls, type SeededCall } from "../services/aggregator/test/support/seed.ts";

const RATE = Number(process.env.BENCH_AGGREGATOR_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_AGGREGATOR_SECONDS ?? 10);
const CHUNKS_PER_CALL = 10;
const DRAIN_CALLS = Number(process.env.BENCH_AGGREGATOR_DRAIN_CALLS ?? 400);
const TARGET_P99_MS = 50;

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

const urls = testInfraUrls();
const database = await createTestDatabase(urls.postgres);
const messaging = await createTestNamespace(urls.nats);
const db = createDb(database.url, { poolSize: 6 });
const t = messaging.topology;
const publish = ledgerEventPublisher(messaging.nats, t);

const jsm = await jetstreamManager(messaging.nats);
const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/** Starts the aggregator process and resolves once its consumer is pulling. */
async function startAggregator(): Promise<ChildProcess> {
  const child = spawn(`${repoRoot}node_modules/.bin/tsx`, ["services/aggregator/src/main.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      CALLFLOW_DATABASE_URL: database.url,
      CALLFLOW_NATS_URL: urls.nats,
      CALLFLOW_NAMESPACE: messaging.namespace,
      CALLFLOW_AGGREGATOR_OPS_PORT: "0",
      CALLFLOW_LOG_LEVEL: "warn",
      OTEL_SDK_DISABLED: "true",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const { stream, durable } = t.consumer("aggregator");
  await waitUntilAsync("the aggregator's consumer to pull", async () => {
    if (child.exitCode !== null) throw new Error(`the aggregator exited with ${child.exitCode}`);
    const info = await jsm.consumers.info(stream, durable).catch(() => undefined);
    return (info?.num_waiting ?? 0) > 0 || (info?.num_ack_pending ?? 0) > 0;
  }, 60_000);
  return child;
}

const stopAggregator = async (child: ChildProcess) => {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
};

/** What the transcription worker's commit does to a chunk row, in one statement (the producer stays cheap). */
const markTerminal = (chunkId: string) =>
  db.$executeRaw`
    UPDATE chunks SET status = 'transcribed', finished_at = now(), updated_at = now(), text = 'bench chunk',
      segments = jsonb_build_array(jsonb_build_object('start', start_offset_seconds, 'end', start_offset_seconds + 9, 'text', 'bench chunk'))
    WHERE id = ${chunkId}::uuid AND status = 'running'`;

/** callTranscribed arrivals, by call id, as seen by a plain subscriber (what merge and summary get). */
const arrivals = new Map<string, number>();
const subscription = messaging.nats.subscribe(t.subject("callTranscribed"), {
  callback: (error, message) => {
    if (!error) arrivals.set(decodeEvent("callTranscribed", message.data).callId, performance.now());
  },
});

const publishChunk = (call: SeededCall, index: number, msgId: string) =>
  publish("chunkTranscribed", { tenantId: call.tenantId, callId: call.callId, chunkId: call.chunkIds[index]!, chunkIndex: index, attempt: 1 }, msgId);

async function waitUntilAsync(what: string, done: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const waitUntil = async (what: string, done: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const loadBefore = loadavg();
let aggregator = await startAggregator();
try {
  // Phase 1: latency at a sustained rate. Calls overlap as many recorders' would: each call's chunks
  // come 10 per second of its own, and a new call starts every CHUNKS_PER_CALL / RATE seconds, so
  // the offered load is RATE chunks/s and calls complete evenly, not in bursts.
  const callCount = Math.ceil((RATE * SECONDS) / CHUNKS_PER_CALL);
  const calls = await seedRecorderCalls(db, { calls: callCount, chunks: CHUNKS_PER_CALL });
  for (const call of calls) await finishUpload(db, call);
  const callEveryMs = (1000 * CHUNKS_PER_CALL) / RATE;
  const order = calls
    .flatMap((call, k) => Array.from({ length: CHUNKS_PER_CALL }, (_, index) => ({ call, index, dueMs: k * callEveryMs + index * 100 })))
    .sort((a, b) => a.dueMs - b.dueMs);
  const lastTerminal = new Map<string, number>();
  const startedAt = performance.now();
  let behind = 0;
  const inFlight = new Set<Promise<void>>();
  for (const [i, { call, index, dueMs }] of order.entries()) {
    const due = startedAt + dueMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    else if (wait < -100) behind += 1;
    const work = (async () => {
      await markTerminal(call.chunkIds[index]!);
      const terminal = performance.now();
      lastTerminal.set(call.callId, Math.max(lastTerminal.get(call.callId) ?? 0, terminal));
      await publishChunk(call, index, `lat-${i}`);
    })();
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }
  await Promise.all(inFlight);
  const producedFor = (performance.now() - startedAt) / 1000;
  await waitUntil("every call of the latency phase", () => calls.every((call) => arrivals.has(call.callId)), 60_000);
  const latencies = calls.map((call) => arrivals.get(call.callId)! - lastTerminal.get(call.callId)!).sort((a, b) => a - b);
  const offered = order.length / producedFor;

  // Phase 2: the most chunks/s the aggregator drains. It is stopped while a backlog of
  // DRAIN_CALLS × 10 chunk events builds up (rows already terminal, a call's events together); then it
  // starts and drains it. Calls complete evenly through the drain, so their arrivals time it.
  await stopAggregator(aggregator);
  const backlog = await seedRecorderCalls(db, { calls: DRAIN_CALLS, chunks: CHUNKS_PER_CALL });
  for (const call of backlog) await finishUpload(db, call);
  await db.chunk.updateMany({
    where: { callId: { in: backlog.map((call) => call.callId) } },
    data: { status: "transcribed", text: "backlog", segments: [], finishedAt: new Date() },
  });
  let published = 0;
  for (const call of backlog) {
    await Promise.all(call.chunkIds.map((_, index) => publishChunk(call, index, `drain-${published++}`)));
  }
  aggregator = await startAggregator();
  await waitUntil("the backlog to drain", () => backlog.every((call) => arrivals.has(call.callId)), 180_000);
  const drained = backlog.map((call) => arrivals.get(call.callId)!).sort((a, b) => a - b);
  const drainSeconds = (drained.at(-1)! - drained[0]!) / 1000;
  const drainRate = ((backlog.length - 1) * CHUNKS_PER_CALL) / drainSeconds;

  const p50 = quantile(latencies, 0.5);
  const p99 = quantile(latencies, 0.99);
  console.log(`machine load average before the run: ${loadBefore.map((l) => l.toFixed(2)).join(" ")} (2 cores, shared); figures move with it`);
  // Calls overlap, so the rate ramps up over the first call's second and down over the last one's.
  console.log(`aggregator fan-in, ${calls.length} calls × ${CHUNKS_PER_CALL} chunks: ${RATE} chunks/s steady, ${offered.toFixed(0)} chunks/s over the ${producedFor.toFixed(1)} s including the ramps`);
  console.log(`  last chunk terminal → callTranscribed published: p50 ${fmt(p50)}  p90 ${fmt(quantile(latencies, 0.9))}  p99 ${fmt(p99)}  max ${fmt(latencies.at(-1)!)}  (target p99 < ${TARGET_P99_MS} ms: ${p99 < TARGET_P99_MS ? "met" : "NOT met"})`);
  if (behind > 0) console.log(`  the producer fell behind its schedule by > 100 ms for ${behind} chunks (the machine was busy)`);
  console.log(`  drain: ${backlog.length * CHUNKS_PER_CALL} queued chunk events (${backlog.length} calls), first to last call settled in ${drainSeconds.toFixed(2)} s → ${drainRate.toFixed(0)} chunks/s sustained`);
  const duplicates = (await db.outboxEvent.count({ where: { subject: t.subject("callTranscribed") } })) - calls.length - backlog.length;
  console.log(`  callTranscribed rows beyond one per call: ${duplicates}`);
} finally {
  subscription.unsubscribe();
  await stopAggregator(aggregator);
  await db.$disconnect();
  await messaging.cleanup();
  await database.drop();
}
