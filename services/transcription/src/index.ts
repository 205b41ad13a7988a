import type { Db } from "@callflow/db";
import { startWorker, type AnyConsumerRegistration, type ConsumerRegistration, workerBasics, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import { openStorage } from "@callflow/storage";
import { objectStoreAudio } from "./audio/audio-store.ts";
import { failChunkOnDeadLetter } from "./chunks/fail-on-dead-letter.ts";
import { createPostgresChunkRepo } from "./chunks/postgres-chunk-repo.ts";
import { createCompleteFromWebhook, type WebhookResult } from "./complete-from-webhook.ts";
import type { TranscriptionConfig } from "./config.ts";
import { createJobSignals } from "./jobs/job-signals.ts";
import { createHandleProviderCallback } from "./provider-callback.ts";
import { createProviders } from "./speech-to-text/providers.ts";
import { createTranscribeChunk } from "./transcribe-chunk.ts";

export { transcriptionConfigFromEnv, type TranscriptionConfig } from "./config.ts";
export type { WebhookResult } from "./complete-from-webhook.ts";

export interface TranscriptionHandle extends ServiceHandle {
  /** AssemblyAI's webhook said job `jobId` is done: store its result (ingest forwards it as an event too). */
  completeFromWebhook(jobId: string): Promise<WebhookResult>;
  stop(): Promise<void>;
}

export type StartOptions = ServiceStartOptions;

/**
 * The transcription worker: chunkReady → text through the tenant's provider (pocketsphinx by default),
 * splitting audio over a provider's limits; AssemblyAI jobs complete by webhook (forwarded by ingest
 * as providerCallbackReceived) or by bounded polling.
 */
export async function start(config: TranscriptionConfig, options: StartOptions = {}): Promise<TranscriptionHandle> {
  const storage = await openStorage(config.storage);
  const providers = createProviders(config);
  const signals = createJobSignals();
  let db: Db | undefined;
  let completeFromWebhook: ((jobId: string, signal?: AbortSignal) => Promise<WebhookResult>) | undefined;
  let chunks: ReturnType<typeof createPostgresChunkRepo> | undefined;

  const worker = await startWorker({
    ...workerBasics("transcription", config, options),
    release: () => storage.close(),
    // A handler may hold a message while a provider works; shutdown waits for it, within reason.
    graceMs: Math.min(config.ackWaitMs, 25_000),
    consumers: (context) => {
      db = context.db;
      chunks = createPostgresChunkRepo({ db: context.db, topology: context.topology, relay: context.relay });
      const transcribe = createTranscribeChunk({
        chunks,
        sttFor: providers.sttFor,
        audio: objectStoreAudio(storage.store),
        tools: config.tools,
        signals,
        polling: { firstPollAfterMs: config.assemblyai.firstPollMs, maxPollIntervalMs: config.assemblyai.maxPollMs },
        logger: context.logger,
        heartbeatMs: config.heartbeatMs,
        staleAfterMs: config.staleAfterMs,
        deleteSplitOriginals: config.deleteSplitOriginals,
      });
      const transcription: ConsumerRegistration<"transcription"> = {
        declaration: { key: "transcription", ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver },
        // Long jobs: pull no more than can run, so nothing waits in the buffer against ack_wait.
        concurrency: config.concurrency,
        prefetch: config.concurrency,
        handler: transcribe,
        onDeadLetter: failChunkOnDeadLetter(chunks),
      };
      const registrations: AnyConsumerRegistration[] = [transcription];
      if (providers.assemblyai) {
        completeFromWebhook = createCompleteFromWebhook({ chunks, stt: providers.assemblyai, signals });
        const onCallback = createHandleProviderCallback({ db: context.db, completeFromWebhook });
        const callbacks: ConsumerRegistration<"callbacks"> = {
          declaration: { key: "callbacks", ackWaitMs: 30_000, maxDeliver: 10 },
          concurrency: 8,
          handler: (event, ctx) => onCallback(event, ctx.signal),
        };
        registrations.push(callbacks);
      }
      return registrations;
    },
  });

  return {
    opsUrl: worker.opsUrl,
    context: worker.context,
    completeFromWebhook: async (jobId) => {
      if (!completeFromWebhook || !db) throw new Error("AssemblyAI is not configured for any tenant");
      return completeFromWebhook(jobId);
    },
    stop: worker.stop,
  };
}
