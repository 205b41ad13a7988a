// The whole pipeline, every service in one process as `callflow up` runs it, with an instant
// transcription provider (a local server speaking OpenAI's transcription API) so the figures are
// the pipeline's own: N recorder calls × K one-second chunks through ingest, transcription, the
// ledger, merge (real ffmpeg), the extractive summary and completion. Prints calls/s, chunks/s,
// end-to-end p50/p99 (call opened → completed) and each stage's p99. No target yet: the baseline.
// Run: pnpm --filter @callflow/bench bench:pipeline   (BENCH_PIPELINE_CALLS, BENCH_PIPELINE_CHUNKS, BENCH_PIPELINE_UPLOADERS)
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startStack } from "../packages/cli/src/stack.ts";
import { createDb } from "../packages/db/src/index.ts";
import { testInfraUrls } from "../packages/testkit/src/env.ts";
import { createTestNamespace } from "../packages/testkit/src/nats.ts";
import { createTestDatabase } from "../packages/testkit/src/postgres.ts";
import { startFakeOpenAi } from "../packages/testkit/src/providers/fake-openai.ts";
import { waitFor } from "../packages/testkit/src/wait.ts";

const CALLS = Number(process.env.BENCH_PIPELINE_CALLS ?? 40);
const CHUNKS = Number(process.env.BENCH_PIPELINE_CHUNKS ?? 5);
const UPLOADERS = Number(process.env.BENCH_PIPELINE_UPLOADERS ?? 4);

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const ms = (value: number) => `${value.toFixed(0)} ms`;

const urls = testInfraUrls();
const database = await createTestDatabase(urls.postgres);
const messaging = await createTestNamespace(urls.nats);
const provider = await startFakeOpenAi();
const dir = await mkdtemp(join(tmpdir(), "callflow-bench-pipeline-"));
const chunkFile = join(dir, "chunk.wav");
await promisify(execFile)("sox", ["-n", "-r", "16000", "-c", "1", "-b", "16", chunkFile, "synth", "1", "sine", "440"]);
const chunk = await readFile(chunkFile);

const stack = await startStack(
  {
    ...process.env,
    CALLFLOW_DATABASE_URL: database.url,
    CALLFLOW_NAMESPACE: messaging.namespace,
    CALLFLOW_LOG_LEVEL: "warn",
    CALLFLOW_TRANSCRIPTION_PROVIDER: "openai",
    CALLFLOW_OPENAI_BASE_URL: provider.baseURL,
    CALLFLOW_OPENAI_API_KEY: "bench-key",
    CALLFLOW_TRANSCRIPTION_CONCURRENCY: "16",
    CALLFLOW_MERGE_CONCURRENCY: "2",
    CALLFLOW_INGEST_RATE_LIMIT_PER_MINUTE: "1000000",
  },
  { randomPorts: true },
);
const db = createDb(database.url, { poolSize: 2 });

try {
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${stack.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${stack.apiKey}`, ...(init.headers as Record<string, string>) } });
  console.log(`pipeline bench: ${CALLS} calls × ${CHUNKS} chunks of 1 s, ${UPLOADERS} uploaders, instant transcription, load ${loadavg().map((l) => l.toFixed(2)).join(" ")} (2 cores)`);

  const started = performance.now();
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: UPLOADERS }, async () => {
      while (next < CALLS) {
        next += 1;
        const { id } = (await (await api("/v1/calls/recorder", { method: "POST" })).json()) as { id: string };
        ids.push(id);
        for (let index = 0; index < CHUNKS; index++) {
          const answer = await api(`/v1/calls/${id}/chunks?index=${index}`, { method: "POST", body: chunk, headers: { "content-type": "audio/wav" } });
          if (answer.status !== 202) throw new Error(`chunk upload answered ${answer.status}: ${await answer.text()}`);
        }
        await api(`/v1/calls/${id}/finish`, { method: "POST" });
      }
    }),
  );
  const uploaded = performance.now();
  await waitFor("every call terminal", async () => (await db.call.count({ where: { id: { in: ids }, status: { in: ["completed", "failed"] } } })) === CALLS, { timeoutMs: 30 * 60_000, intervalMs: 100 });
  const finished = performance.now();

  const calls = await db.call.findMany({ where: { id: { in: ids } }, select: { status: true, createdAt: true, completedAt: true, updatedAt: true } });
  const failed = calls.filter((call) => call.status !== "completed").length;
  const endToEnd = calls.map((call) => (call.completedAt ?? call.updatedAt).getTime() - call.createdAt.getTime());
  const seconds = (finished - started) / 1000;
  console.log(`  uploads done after ${((uploaded - started) / 1000).toFixed(1)} s; every call terminal after ${seconds.toFixed(1)} s (${failed} failed)`);
  console.log(`  throughput            ${(CALLS / seconds).toFixed(2)} calls/s, ${((CALLS * CHUNKS) / seconds).toFixed(1)} chunks/s`);
  console.log(`  end to end            p50 ${ms(quantile(endToEnd, 0.5))}  p99 ${ms(quantile(endToEnd, 0.99))}  (call opened → completed)`);

  const chunkRows = await db.chunk.findMany({ where: { callId: { in: ids } }, select: { createdAt: true, startedAt: true, finishedAt: true } });
  const wait = chunkRows.filter((row) => row.startedAt).map((row) => row.startedAt!.getTime() - row.createdAt.getTime());
  const work = chunkRows.filter((row) => row.startedAt && row.finishedAt).map((row) => row.finishedAt!.getTime() - row.startedAt!.getTime());
  console.log(`  chunk transcription   p99 ${ms(quantile(work, 0.99))} working, p99 ${ms(quantile(wait, 0.99))} queued before a worker took it`);
  const stages = await db.stageRun.findMany({ where: { callId: { in: ids } }, select: { stage: true, createdAt: true, startedAt: true, finishedAt: true } });
  for (const stage of ["transcription", "merge", "summary", "completion"] as const) {
    const rows = stages.filter((row) => row.stage === stage && row.finishedAt);
    const queued = rows.filter((row) => row.startedAt).map((row) => row.startedAt!.getTime() - row.createdAt.getTime());
    const running = rows.filter((row) => row.startedAt).map((row) => row.finishedAt!.getTime() - row.startedAt!.getTime());
    // Transcription's and completion's stage rows are written when their work has already begun, so only
    // merge and summary have a meaningful wait in the queue.
    const waited = stage === "merge" || stage === "summary" ? `, p99 ${ms(quantile(queued, 0.99))} queued before a worker took it` : "";
    console.log(`  stage ${stage.padEnd(14)}  p99 ${ms(quantile(running, 0.99))} running${waited} (${rows.length} runs)`);
  }
} finally {
  await db.$disconnect();
  await stack.stop();
  await provider.close();
  await messaging.cleanup();
  await database.drop();
  await rm(dir, { recursive: true, force: true });
}
