// The whole pipeline, every service in one process as `callflow up` runs it, with an instant
// transcription provider (a local server speaking OpenAI's transcription API) so the figures are
// the pipeline's own: N recorder calls × K one-second chunks through ingest, transcription, the
// ledger, merge (real ffmpeg), the extractive summary and completion. Prints calls/s, chunks/s,
// end-to-end p50/p99 (call opened → completed) and each stage's p99. No target yet: the baseline.
// Run: pnpm --filter @callflow/bench bench:pipeline   (BENCH_PIPELINE_CALLS, BENCH_PIPELINE_CHUNKS, BENCH_PIPELINE_UPLOADERS)
import { startFakeOpenAi } from "../packages/testkit/src/providers/fake-openai.ts";
import { startCallflowSide } from "./lib/callflow-side.ts";
import { loadAverage, ms, offerRecorderLoad, oneSecondChunk, quantile } from "./lib/recorder-load.ts";

const CALLS = Number(process.env.BENCH_PIPELINE_CALLS ?? 40);
const CHUNKS = Number(process.env.BENCH_PIPELINE_CHUNKS ?? 5);
const UPLOADERS = Number(process.env.BENCH_PIPELINE_UPLOADERS ?? 4);

const provider = await startFakeOpenAi();
const chunk = await oneSecondChunk();
const side = await startCallflowSide(provider.baseURL);
const { db } = side;

try {
  console.log(`pipeline bench: ${CALLS} calls × ${CHUNKS} chunks of 1 s, ${UPLOADERS} uploaders, instant transcription, ${loadAverage()} (2 cores)`);
  const result = await offerRecorderLoad(db, side.upload, { calls: CALLS, chunks: CHUNKS, chunk, load: { kind: "uploaders", uploaders: UPLOADERS } });
  const { ids, seconds, endToEnd } = result;
  console.log(`  uploads done after ${result.uploadSeconds.toFixed(1)} s; every call terminal after ${seconds.toFixed(1)} s (${result.failed} failed)`);
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
  await side.stop();
  await provider.close();
}
