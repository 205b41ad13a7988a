import { defineConsumer, openRuntime, type AnyConsumerRegistration, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import { openStorage } from "@callflow/storage";
import { providerMetrics } from "@callflow/telemetry";
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
  const runtime = await openRuntime({ service: "transcription", config, ...options });
  const storage = await runtime.own("waiting for object storage", () => openStorage(config.storage), (opened) => opened.close());
  const inUse = [...new Set([config.provider, ...Object.values(config.tenantProviders)])];
  const metrics = providerMetrics(runtime.metrics.registry, inUse);
  const providers = createProviders(config, metrics);
  const signals = createJobSignals();

  const chunks = createPostgresChunkRepo({ db: runtime.db, topology: runtime.topology, relay: runtime.relay });
  const transcribe = createTranscribeChunk({
    chunks,
    sttFor: providers.sttFor,
    audio: objectStoreAudio(storage.store),
    tools: config.tools,
    signals,
    polling: { firstPollAfterMs: config.assemblyai.firstPollMs, maxPollIntervalMs: config.assemblyai.maxPollMs },
    logger: runtime.logger,
    heartbeatMs: config.heartbeatMs,
    staleAfterMs: config.staleAfterMs,
    deleteSplitOriginals: config.deleteSplitOriginals,
    realTimeFactor: metrics.realTimeFactor,
  });
  const completeFromWebhook = providers.assemblyai && createCompleteFromWebhook({ chunks, stt: providers.assemblyai, signals });

  const consumers: AnyConsumerRegistration[] = [
    defineConsumer({
      declaration: { key: "transcription", ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver },
      // Long jobs: pull only for free slots, so nothing waits here against ack_wait and a replica
      // that joins takes the backlog's next messages.
      concurrency: config.concurrency,
      prefetch: 0,
      handler: transcribe,
      onDeadLetter: failChunkOnDeadLetter(chunks),
    }),
  ];
  if (completeFromWebhook) {
    const onCallback = createHandleProviderCallback({ db: runtime.db, completeFromWebhook });
    consumers.push(
      defineConsumer({
        declaration: { key: "callbacks", ackWaitMs: 30_000, maxDeliver: 10 },
        concurrency: 8,
        handler: (event, ctx) => onCallback(event, ctx.signal),
      }),
    );
  }

  // A handler may hold a message while a provider works; shutdown waits for it, within reason.
  const service = await runtime.run({ consumers, graceMs: Math.min(config.ackWaitMs, 25_000) });
  return {
    ...service,
    completeFromWebhook: async (jobId) => {
      if (!completeFromWebhook) throw new Error("AssemblyAI is not configured for any tenant");
      return completeFromWebhook(jobId);
    },
  };
}
