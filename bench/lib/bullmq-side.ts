// The queue a team would build instead of Callflow: a BullMQ flow over Redis, a parent job waiting on
// one child per chunk, on the same Postgres tables. Every step is Callflow's own function (ingest's
// receive-and-probe and chunk rows, the transcription handler, the ledger's settle, merge, summary,
// completion), so the two sides differ only in orchestration: BullMQ's queues instead of JetStream,
// the outbox and the consumers. The events those functions write stay in the outbox, unpublished.
// Calls arrive over HTTP as they do at Callflow's ingest (bullmq-upload-server.ts), from the same load generator.
import { FlowProducer, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import { completeCallIfDone } from "../../packages/call-lifecycle/src/index.ts";
import { topology } from "../../packages/contracts/src/index.ts";
import { createDb } from "../../packages/db/src/index.ts";
import type { Outcome } from "../../packages/messaging/src/index.ts";
import { openStorage, storageConfigFromEnv } from "../../packages/storage/src/index.ts";
import { createLogger } from "../../packages/telemetry/src/index.ts";
import { testInfraUrls, uniqueSuffix } from "../../packages/testkit/src/env.ts";
import { createTestDatabase } from "../../packages/testkit/src/postgres.ts";
import { settleCall } from "../../services/aggregator/src/ledger/settle-call.ts";
import { ffprobeAudio } from "../../services/ingest/src/audio/probe.ts";
import { outboxCommit } from "../../services/ingest/src/calls/commit.ts";
import { createApiKey } from "../../services/ingest/src/auth/api-keys.ts";
import { ingestConfigFromEnv } from "../../services/ingest/src/index.ts";
import { OUTPUT_FORMATS } from "../../services/merge/src/audio/output-format.ts";
import { createMergeOnTranscribed } from "../../services/merge/src/handler.ts";
import { mergeConfigFromEnv } from "../../services/merge/src/index.ts";
import { createMergeStageRepo } from "../../services/merge/src/recordings/merge-stage-repo.ts";
import { objectStoreRecordings } from "../../services/merge/src/recordings/recording-storage.ts";
import { createSummarizeTranscript } from "../../services/summary/src/handler.ts";
import { summaryConfigFromEnv } from "../../services/summary/src/index.ts";
import { createSummaryStage } from "../../services/summary/src/stage/summary-stage.ts";
import { selectSummarizer } from "../../services/summary/src/summarizers/select-summarizer.ts";
import { objectStoreAudio } from "../../services/transcription/src/audio/audio-store.ts";
import { createPostgresChunkRepo } from "../../services/transcription/src/chunks/postgres-chunk-repo.ts";
import { transcriptionConfigFromEnv } from "../../services/transcription/src/index.ts";
import { createJobSignals } from "../../services/transcription/src/jobs/job-signals.ts";
import { createProviders } from "../../services/transcription/src/speech-to-text/providers.ts";
import { createTranscribeChunk } from "../../services/transcription/src/transcribe-chunk.ts";
import { pipelineBenchEnv, type BenchSide } from "./callflow-side.ts";
import { startUploadServer } from "./bullmq-upload-server.ts";
import { uploadOverHttp } from "./recorder-load.ts";

const CHUNKS_QUEUE = "transcribe-chunk";
const CALLS_QUEUE = "finish-call";

interface ChunkJob {
  chunkId: string;
}
interface CallJob {
  tenantId: string;
  callId: string;
  audioVersion: number;
}

/** A Callflow outcome as BullMQ understands it: return, throw to retry with backoff, or fail for good. */
const settleOutcome = (outcome: Outcome): void => {
  if (outcome.kind === "ack") return;
  if (outcome.kind === "dead") throw new UnrecoverableError(`${outcome.code}: ${outcome.message}`);
  throw new Error(`${outcome.code}: ${outcome.message}`);
};

/** A BullMQ job as the delivery Callflow's handlers read: its attempt, its last one or not, its cancellation. */
const deliveryOf = (job: Job, signal: AbortSignal | undefined) => {
  const deliveryCount = job.attemptsMade + 1;
  return {
    deliveryCount,
    lastDelivery: deliveryCount >= (job.opts.attempts ?? 1),
    signal: signal ?? new AbortController().signal,
    // BullMQ's worker renews the job's lock by itself while the processor runs.
    working: () => undefined,
  };
};

export async function startBullmqSide(providerUrl: string): Promise<BenchSide> {
  const urls = testInfraUrls();
  const database = await createTestDatabase(urls.postgres);
  const env = pipelineBenchEnv(database.url, providerUrl);
  const ingestConfig = ingestConfigFromEnv(env);
  const transcriptionConfig = transcriptionConfigFromEnv(env);
  const mergeConfig = mergeConfigFromEnv(env);
  const summaryConfig = summaryConfigFromEnv(env);
  // No endpoint configured: the embedded S3 server, in this process as in the Callflow stack's.
  const storage = await openStorage(storageConfigFromEnv(env));
  // One process holds what Callflow spreads over ingest, transcription, merge and summary: their pools together.
  const db = createDb(database.url, { poolSize: transcriptionConfig.concurrency + mergeConfig.concurrency * 2 + 4 });
  const logger = createLogger({ service: "bullmq-peer", level: "warn" });
  const names = topology(`peer${uniqueSuffix()}`);
  const commit = outboxCommit(db, names, undefined);
  const tenant = await db.tenant.create({ data: { name: "bullmq-peer" } });

  const transcribe = createTranscribeChunk({
    chunks: createPostgresChunkRepo({ db, topology: names }),
    sttFor: createProviders(transcriptionConfig).sttFor,
    audio: objectStoreAudio(storage.store),
    tools: transcriptionConfig.tools,
    signals: createJobSignals(),
    polling: { firstPollAfterMs: transcriptionConfig.assemblyai.firstPollMs, maxPollIntervalMs: transcriptionConfig.assemblyai.maxPollMs },
    logger,
    heartbeatMs: transcriptionConfig.heartbeatMs,
    staleAfterMs: transcriptionConfig.staleAfterMs,
  });
  const merge = createMergeOnTranscribed({
    stages: createMergeStageRepo({ db, topology: names }),
    storage: objectStoreRecordings(storage.store),
    tools: mergeConfig.tools,
    format: OUTPUT_FORMATS[mergeConfig.outputFormat],
    tolerance: mergeConfig.tolerance,
    deleteChunks: mergeConfig.deleteChunks,
    heartbeatMs: mergeConfig.heartbeatMs,
    staleAfterMs: mergeConfig.staleAfterMs,
    workDir: mergeConfig.workDir,
    logger,
  });
  const summarize = createSummarizeTranscript({
    stage: createSummaryStage({ db, topology: names }),
    summarizer: selectSummarizer(summaryConfig),
    logger,
    heartbeatMs: summaryConfig.heartbeatMs,
  });

  // BullMQ's advice: blocking workers need maxRetriesPerRequest null, and each Worker its own connection.
  const [host, port] = [process.env.BENCH_REDIS_HOST ?? "127.0.0.1", Number(process.env.BENCH_REDIS_PORT ?? 6379)];
  const connection = (): ConnectionOptions => ({ host, port, maxRetriesPerRequest: null });
  const prefix = `callflow-peer-${uniqueSuffix()}`;
  const flows = new FlowProducer({ connection: connection(), prefix });

  const chunkWorker = new Worker<ChunkJob>(
    CHUNKS_QUEUE,
    async (job, _token, signal) => settleOutcome(await transcribe({ chunkId: job.data.chunkId }, deliveryOf(job, signal))),
    { connection: connection(), prefix, concurrency: transcriptionConfig.concurrency },
  );
  // The parent runs once every child completed: the ledger's settle, then merge and summary side by side, then completion.
  const callWorker = new Worker<CallJob>(
    CALLS_QUEUE,
    async (job, _token, signal) => {
      const { tenantId, callId, audioVersion } = job.data;
      const settled = await commit((tx, emit) => settleCall(tx, emit, callId, new Date()));
      if (settled.outcome === "failed" || settled.outcome === "unknown_call") return;
      if (settled.outcome === "pending") throw new Error(`call ${callId} not settled: ${settled.reason}`);
      const transcriptId =
        settled.outcome === "transcribed"
          ? settled.transcriptId
          : (await db.transcript.findUniqueOrThrow({ where: { callId_audioVersion: { callId, audioVersion } }, select: { id: true } })).id;
      const delivery = deliveryOf(job, signal);
      const event = { tenantId, callId, audioVersion, transcriptId };
      const [merged, summarized] = await Promise.all([merge(event, delivery), summarize(event, delivery)]);
      settleOutcome(merged);
      settleOutcome(summarized);
      await commit((tx, emit) => completeCallIfDone(tx, emit, { callId, now: new Date() }));
    },
    { connection: connection(), prefix, concurrency: mergeConfig.concurrency },
  );
  for (const worker of [chunkWorker, callWorker]) worker.on("error", (error) => logger.warn({ err: error }, "bullmq worker error"));

  // Completed jobs leave Redis at once, failed ones are kept for a day to be looked at.
  const retention = { removeOnComplete: true, removeOnFail: { age: 24 * 3600 } };
  const backoff = { type: "exponential", delay: 1_000 };

  // The upload handler a team would write in front of the flow: the same routes, authentication and
  // upload functions as Callflow's ingest; the chunk rows are the flow's children once the call is finished.
  const flowOf = async (tenantId: string, callId: string, audioVersion: number) => {
    const chunks = await db.chunk.findMany({ where: { callId, audioVersion }, select: { id: true }, orderBy: { index: "asc" } });
    await flows.add({
      name: "finish",
      queueName: CALLS_QUEUE,
      data: { tenantId, callId, audioVersion } satisfies CallJob,
      opts: { attempts: mergeConfig.maxDeliver, backoff, ...retention },
      children: chunks.map((chunk) => ({
        name: "transcribe",
        queueName: CHUNKS_QUEUE,
        data: { chunkId: chunk.id } satisfies ChunkJob,
        opts: { attempts: transcriptionConfig.maxDeliver, backoff, failParentOnFailure: true, ...retention },
      })),
    });
  };
  const server = await startUploadServer({
    db,
    commit,
    store: storage.store,
    probe: ffprobeAudio({ ffprobePath: ingestConfig.ffprobePath, timeoutMs: ingestConfig.probeTimeoutMs }),
    maxUploadBytes: ingestConfig.maxUploadBytes,
    finished: flowOf,
  });
  const { key } = await createApiKey(db, { tenantId: tenant.id, name: "bench" });

  return {
    db,
    upload: uploadOverHttp(server.url, key),
    stop: async () => {
      await server.close();
      await Promise.all([chunkWorker.close(), callWorker.close()]);
      await flows.close();
      for (const name of [CHUNKS_QUEUE, CALLS_QUEUE]) {
        const queue = new Queue(name, { connection: connection(), prefix });
        await queue.obliterate({ force: true });
        await queue.close();
      }
      await db.$disconnect();
      await storage.close();
      await database.drop();
    },
  };
}
