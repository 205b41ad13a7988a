import type { AddressInfo } from "node:net";
import { openRuntime, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import { openStorage } from "@callflow/storage";
import { ffprobeAudio } from "./audio/probe.ts";
import { ffmpegTrimmer } from "./audio/trim.ts";
import { cachedApiKeyLookup, postgresApiKeyLookup } from "./auth/api-keys.ts";
import { outboxCommit } from "./calls/commit.ts";
import type { IngestConfig } from "./config.ts";
import { createIngestApp } from "./ingest-app.ts";
import { createDeliverNotification, exponentialBackoff, fetchSender } from "./notifications/deliver.ts";
import { notifierDeclaration } from "./notifications/notifier-consumer.ts";

export { ingestConfigFromEnv, type IngestConfig } from "./config.ts";
export { createApiKey, hashApiKey, ADMIN_SCOPE } from "./auth/api-keys.ts";
export { enqueueCallNotification, type CallNotificationEvent } from "@callflow/call-lifecycle";

/** The running API; `url` is its base URL, e.g. http://127.0.0.1:8080. */
export type IngestHandle = ServiceHandle;

export type StartOptions = ServiceStartOptions;

/**
 * Starts the ingest API. Its port answers from the first moment (alive; 503 `starting` while Postgres,
 * object storage and NATS are awaited), the migration level and declared streams are checked
 * (invariant 9), then the API takes the port over. `stop()` closes the listener first, then the
 * notifier, then the relay and the clients, so no accepted request loses its events.
 */
export async function start(config: IngestConfig, options: StartOptions = {}): Promise<IngestHandle> {
  const runtime = await openRuntime({ service: "ingest", config: { ...config, opsPort: config.port, opsHost: config.host }, holdsApiPort: true, ...options });
  const { db, topology, relay, logger } = runtime;
  // Every concurrent upload holds about (queueSize + 1) × partSize: ingest runs many at once.
  const upload = { partSizeBytes: config.uploadPartBytes, queueSize: config.uploadPartsInFlight };
  const storage = await runtime.own("waiting for object storage", () => openStorage(config.storage, { upload, logger }), (opened) => opened.close());

  const { app, uploads } = await createIngestApp({
    logger,
    db,
    store: storage.store,
    commit: outboxCommit(db, topology, relay),
    probe: ffprobeAudio({ ffprobePath: config.ffprobePath, timeoutMs: config.probeTimeoutMs }),
    apiKeys: cachedApiKeyLookup(postgresApiKeyLookup(db), config.apiKeyCacheMs),
    registry: runtime.metrics.registry,
    readiness: async () => {
      // Ingest's one consumer is the notifier: its readiness says so by name.
      const { consumers, ...checks } = await runtime.readiness();
      return consumers === undefined ? checks : { ...checks, notifier: consumers };
    },
    maxUploadBytes: config.maxUploadBytes,
    rateLimitPerMinute: config.rateLimitPerMinute,
    recordingRedirect: config.recordingRedirect,
    publicUrl: config.publicUrl,
    resumable: { directory: config.tusDirectory, maxStagedBytes: config.tusMaxStagedBytes, expiryMs: config.tusExpiryMs },
    trimmer: ffmpegTrimmer({ ffmpegPath: config.ffmpegPath, timeoutMs: config.trimTimeoutMs }),
    ssePollMs: config.ssePollMs,
    reaperPolicy: config.reaperPolicy,
    consoleDirectory: config.consoleDirectory,
    publisher: runtime.publisher,
    topology,
    relay,
    webhooks: {
      twilioAuthToken: config.twilioAuthToken,
      assemblyAi: { header: config.assemblyAiWebhookHeader, secret: config.assemblyAiWebhookSecret },
    },
  });
  const expirySweep = setInterval(() => {
    uploads.cleanUpExpired().catch((error: unknown) => logger.warn({ err: error }, "cleaning expired tus uploads failed"));
  }, Math.min(config.tusExpiryMs, 3_600_000));
  expirySweep.unref();
  runtime.onStop(async () => clearInterval(expirySweep));

  const notifier = notifierDeclaration({ timeoutMs: config.notifyTimeoutMs, maxAttempts: config.notifyMaxAttempts });
  return runtime.run({
    consumers: [
      {
        declaration: notifier,
        concurrency: 4,
        handler: createDeliverNotification({
          db,
          send: fetchSender,
          maxAttempts: config.notifyMaxAttempts,
          timeoutMs: config.notifyTimeoutMs,
          backoffMs: exponentialBackoff(config.notifyRetryBaseMs),
        }),
      },
    ],
    graceMs: 10_000,
    api: { listen: (port) => app.listen({ host: config.host, port }), address: () => app.server.address() as AddressInfo, close: () => app.close() },
  });
}
