// Horizontal scaling of the transcription worker, as KEDA scales it: 1, 2 and 4 replicas, each a
// process of its own (`services/transcription/src/main.ts`), against a provider that takes a fixed
// time per chunk (a local server speaking OpenAI's transcription API), so the work is I/O bound and
// this 2-core machine can show it. For each replica count a backlog of chunks is queued first, then
// the replicas drain it: throughput (chunks/s) per replica count and the scaling efficiency
// (throughput per replica against one replica's; target >= 0.8 at 4). Then the consumer lag KEDA
// reads (num_pending + num_ack_pending of the durable consumer) is followed second by second while
// chunks arrive faster than one replica handles them and replicas join: it rises, then falls.
// Run: pnpm --filter @callflow/bench bench:scale   (BENCH_SCALE_CHUNKS, BENCH_SCALE_PROVIDER_MS, BENCH_SCALE_CONCURRENCY)
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { topology } from "../packages/contracts/src/index.ts";
import { createDb } from "../packages/db/src/index.ts";
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3 } from "../packages/storage/src/index.ts";
import { testInfraUrls } from "../packages/testkit/src/env.ts";
import { createTestNamespace } from "../packages/testkit/src/nats.ts";
import { freePort } from "../packages/testkit/src/own-nats.ts";
import { createTestDatabase } from "../packages/testkit/src/postgres.ts";
import { startFakeOpenAi } from "../packages/testkit/src/providers/fake-openai.ts";
import { spawnService, stopService, waitReady, type ServiceProcess } from "../packages/testkit/src/service-process.ts";
import { waitFor } from "../packages/testkit/src/wait.ts";
import * as ingest from "../services/ingest/src/index.ts";

const CHUNKS = Number(process.env.BENCH_SCALE_CHUNKS ?? 64);
const PROVIDER_MS = Number(process.env.BENCH_SCALE_PROVIDER_MS ?? 4_000);
const CONCURRENCY = Number(process.env.BENCH_SCALE_CONCURRENCY ?? 4);
const REPLICAS = [1, 2, 4] as const;
const TARGET_EFFICIENCY = 0.8;
const CHUNKS_PER_CALL = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const benchStarted = performance.now();

const urls = testInfraUrls();
const database = await createTestDatabase(urls.postgres);
const messaging = await createTestNamespace(urls.nats);
const t = topology(messaging.namespace);
const s3 = await startEmbeddedS3({ bucket: "callflow-bench-scale" });
// Closed until every replica of a round is up: the round's clock starts when they all can work.
let gate: Promise<void> = Promise.resolve();
const provider = await startFakeOpenAi({
  apiKey: "bench-key",
  delay: async () => {
    await gate;
    await sleep(PROVIDER_MS);
  },
});
const dir = await mkdtemp(join(tmpdir(), "callflow-bench-scale-"));
const chunkFile = join(dir, "chunk.wav");
await promisify(execFile)("sox", ["-n", "-r", "16000", "-c", "1", "-b", "16", chunkFile, "synth", "1", "sine", "440"]);
const chunk = await readFile(chunkFile);

const connection = {
  CALLFLOW_DATABASE_URL: database.url,
  CALLFLOW_NATS_URL: urls.nats,
  CALLFLOW_NAMESPACE: messaging.namespace,
  CALLFLOW_LOG_LEVEL: "warn",
  CALLFLOW_S3_ENDPOINT: s3.endpoint,
  CALLFLOW_S3_BUCKET: "callflow-bench-scale",
  CALLFLOW_S3_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
  CALLFLOW_S3_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
  CALLFLOW_S3_LISTING_API: s3.listingApi,
};
const api = await ingest.start(ingest.ingestConfigFromEnv({ ...connection, CALLFLOW_INGEST_PORT: "0", CALLFLOW_INGEST_HOST: "127.0.0.1", CALLFLOW_INGEST_RATE_LIMIT_PER_MINUTE: "1000000" }));
const db = createDb(database.url, { poolSize: 2 });
const tenant = await db.tenant.create({ data: { name: "bench scale" } });
const { key } = await ingest.createApiKey(db, { tenantId: tenant.id, name: "bench" });
const nats = await connect({ servers: urls.nats });
const jsm = await jetstreamManager(nats);
const { stream, durable } = t.consumer("transcription");

/** What KEDA's nats-jetstream trigger reads: num_pending + num_ack_pending of the durable consumer. */
const lag = async (): Promise<number> => {
  const info = await jsm.consumers.info(stream, durable);
  return info.num_pending + info.num_ack_pending;
};

const workers: ServiceProcess[] = [];
const startReplicas = async (count: number): Promise<void> => {
  const started = await Promise.all(
    Array.from({ length: count }, async () => {
      const port = await freePort();
      const worker = spawnService("transcription", {
        ...connection,
        CALLFLOW_TRANSCRIPTION_PROVIDER: "openai",
        CALLFLOW_OPENAI_BASE_URL: provider.baseURL,
        CALLFLOW_OPENAI_API_KEY: "bench-key",
        CALLFLOW_TRANSCRIPTION_CONCURRENCY: String(CONCURRENCY),
        CALLFLOW_TRANSCRIPTION_OPS_PORT: String(port),
        CALLFLOW_DATABASE_POOL_SIZE: "4",
      });
      workers.push(worker);
      await waitReady(worker, `http://127.0.0.1:${port}/readyz`, 120_000);
      return worker;
    }),
  );
  if (started.length !== count) throw new Error("a replica did not start");
};
const stopReplicas = async () => {
  await Promise.all(workers.splice(0).map((worker) => stopService(worker)));
};

const call = (path: string, init: RequestInit = {}) =>
  fetch(`${api.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });

/** Uploads `count` one-second chunks in recorder calls, four uploads at a time; resolves to their call ids. */
const queueChunks = async (count: number): Promise<string[]> => {
  const ids: string[] = [];
  let remaining = count;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (remaining > 0) {
        const take = Math.min(CHUNKS_PER_CALL, remaining);
        remaining -= take;
        const { id } = (await (await call("/v1/calls/recorder", { method: "POST" })).json()) as { id: string };
        ids.push(id);
        for (let index = 0; index < take; index++) {
          const answer = await call(`/v1/calls/${id}/chunks?index=${index}`, { method: "POST", body: chunk, headers: { "content-type": "audio/wav" } });
          if (answer.status !== 202) throw new Error(`chunk upload answered ${answer.status}: ${await answer.text()}`);
        }
      }
    }),
  );
  return ids;
};

const transcribed = (ids: string[]) => db.chunk.count({ where: { callId: { in: ids }, status: "transcribed" } });

let exitCode = 0;
try {
  console.log(
    `scale bench: transcription replicas ${REPLICAS.join(", ")} (processes), concurrency ${CONCURRENCY} each, provider ${PROVIDER_MS} ms per chunk, ` +
      `${CHUNKS} queued chunks per round; load ${loadavg().map((l) => l.toFixed(2)).join(" ")} (2 cores)`,
  );
  // A first replica declares the durable consumer (what KEDA reads) and warms tsx's compile cache.
  await startReplicas(1);
  await stopReplicas();

  const throughput = new Map<number, number>();
  for (const replicas of REPLICAS) {
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    const queueing = performance.now();
    const ids = await queueChunks(CHUNKS);
    const queuedIn = (performance.now() - queueing) / 1000;
    await waitFor("the backlog in the consumer", async () => (await lag()) === CHUNKS, { timeoutMs: 30_000, intervalMs: 100 });
    const queued = await lag();
    await startReplicas(replicas);
    // Each replica holds its first chunks at the closed provider: the clock starts when all can work.
    const clock = performance.now();
    open();
    await waitFor("the backlog drained", async () => (await transcribed(ids)) === CHUNKS, { timeoutMs: 10 * 60_000, intervalMs: 50 });
    const seconds = (performance.now() - clock) / 1000;
    const rate = CHUNKS / seconds;
    throughput.set(replicas, rate);
    const ideal = (replicas * CONCURRENCY * 1000) / PROVIDER_MS;
    console.log(
      `  ${replicas} replica${replicas > 1 ? "s" : " "}  lag ${String(queued).padStart(4)} → 0 in ${seconds.toFixed(1).padStart(5)} s: ` +
        `${rate.toFixed(2).padStart(6)} chunks/s (${((rate / ideal) * 100).toFixed(0)}% of the provider-bound ${ideal.toFixed(1)}/s; backlog queued in ${queuedIn.toFixed(1)} s)`,
    );
    await stopReplicas();
  }
  const single = throughput.get(1)!;
  for (const replicas of REPLICAS.slice(1)) {
    const efficiency = throughput.get(replicas)! / (replicas * single);
    const verdict = replicas === 4 ? ` (target ≥ ${TARGET_EFFICIENCY})` : "";
    console.log(`  scaling efficiency at ${replicas}: ${efficiency.toFixed(2)}${verdict}`);
    if (replicas === 4 && efficiency < TARGET_EFFICIENCY) exitCode = 1;
  }

  // Lag under a backlog: a burst arrives while one replica runs, a second replica joins 5 s after the
  // burst is queued and two more 10 s after that, as KEDA adds them on the lag. The lag KEDA reads
  // rises while the burst arrives, then falls, faster with each replica that joins.
  gate = Promise.resolve();
  const burst = 2 * CHUNKS;
  await startReplicas(1);
  const timeline: { at: number; lag: number; replicas: number }[] = [];
  const began = performance.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      timeline.push({ at: (performance.now() - began) / 1000, lag: await lag(), replicas: workers.length });
      await sleep(1_000);
    }
  })();
  const ids = await queueChunks(burst);
  const queuedAt = performance.now();
  await sleep(5_000);
  await startReplicas(1);
  await sleep(Math.max(0, queuedAt + 15_000 - performance.now()));
  await startReplicas(2);
  await waitFor("the burst drained", async () => (await transcribed(ids)) === burst, { timeoutMs: 10 * 60_000, intervalMs: 200 });
  await sleep(1_100);
  sampling = false;
  await sampler;
  await stopReplicas();

  const peak = Math.max(...timeline.map((sample) => sample.lag));
  console.log(`  consumer lag (num_pending + num_ack_pending), a burst of ${burst} chunks queued in ${((queuedAt - began) / 1000).toFixed(1)} s with one replica, more joining:`);
  // At most ~40 lines: every k-th second, and the peak.
  const every = Math.max(1, Math.ceil(timeline.length / 40));
  for (const [i, sample] of timeline.entries()) {
    if (i % every !== 0 && sample.lag !== peak && i !== timeline.length - 1) continue;
    const bar = "█".repeat(Math.round((sample.lag / Math.max(1, peak)) * 40));
    console.log(`    ${sample.at.toFixed(0).padStart(3)} s  ${String(sample.replicas)} replica${sample.replicas > 1 ? "s" : " "}  lag ${String(sample.lag).padStart(4)}  ${bar}`);
  }
  const peakAt = timeline.find((sample) => sample.lag === peak)!;
  const rose = peak > timeline[0]!.lag;
  const fell = timeline.at(-1)!.lag === 0 && peakAt.replicas < 4;
  console.log(`  lag ${rose ? "rose" : "did not rise"} to ${peak} with ${peakAt.replicas} replica${peakAt.replicas > 1 ? "s" : ""} and ${fell ? "fell to 0 as replicas joined" : "did not fall as expected"}`);
  if (!rose || !fell) exitCode = 1;
} finally {
  await stopReplicas();
  await nats.close();
  await db.$disconnect();
  await api.stop();
  await provider.close();
  await s3.close();
  await messaging.cleanup();
  await database.drop();
  await rm(dir, { recursive: true, force: true });
}
console.log(`total ${((performance.now() - benchStarted) / 1000).toFixed(1)} s; ${exitCode === 0 ? "every target met" : "a target was missed"}`);
process.exitCode = exitCode;
