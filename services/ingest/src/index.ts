import type { AddressInfo } from "node:net";
import { connect } from "@nats-io/transport-node";
import type { Registry } from "prom-client";
import { topology } from "@callflow/contracts";
import { createDb, waitForDatabase } from "@callflow/db";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createOutboxRelay, createPostgresDeadLetterSink, createPublisher, declareTopology, startConsumer } from "@callflow/messaging";
import { openStorage } from "@callflow/storage";
import { createLogger, createMetrics, startTelemetry, type Logger } from "@callflow/telemetry";
import { ffprobeAudio } from "./audio/probe.ts";
import { cachedApiKeyLookup, postgresApiKeyLookup } from "./auth/api-keys.ts";
import { outboxCommit } from "./calls/commit.ts";
import type { IngestConfig } from "./config.ts";
import { startStartupResponder } from "./http/startup-responder.ts";
import { createIngestApp } from "./ingest-app.ts";
import { notifierDeclaration } from "./notifications/notifier-consumer.ts";
import { ffmpegTrimmer } from "./audio/trim.ts";
import { createDeliverNotification, exponentialBackoff, fetchSender } from "./notifications/deliver.ts";

export { ingestConfigFromEnv, type IngestConfig } from "./config.ts";
export { createApiKey, hashApiKey, ADMIN_SCOPE } from "./auth/api-keys.ts";
export { enqueueCallNotification, type CallNotificationEvent } from "@callflow/call-lifecycle";

export interface IngestHandle {
  /** Base URL the API listens on, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Share one Prometheus registry between the services of one process (the CLI). */
  registry?: Registry;
}

/**
 * Starts the ingest API: checks the database migration level and the declared streams (invariant 9),
 * starts the outbox relay, then listens. `stop()` closes the listener first, then the relay, then
 * the clients, so no accepted request loses its events.
 */
export const start = async (config: IngestConfig, options: StartOptions = {}): Promise<IngestHandle> => {
  const logger = options.logger ?? createLogger({ service: "ingest", level: config.logLevel });
  const telemetry = startTelemetry({ serviceName: "ingest" });
  const metrics = createMetrics({ service: "ingest", ...(options.registry ? { registry: options.registry } : {}) });
  const cleanups: (() => Promise<unknown>)[] = [() => telemetry.shutdown()];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => logger.error({ err: error }, "ingest stop step failed"));
  };

  try {
    let phase = "waiting for Postgres";
    const startup = await startStartupResponder({ host: config.host, port: config.port, phase: () => phase });
    let startupOpen = true;
    const closeStartup = async () => {
      if (startupOpen) await startup.close();
      startupOpen = false;
    };
    cleanups.push(closeStartup);

    const db = createDb(config.databaseUrl, { poolSize: config.databasePoolSize });
    cleanups.push(() => db.$disconnect());
    await waitForDatabase(db, { databaseUrl: config.databaseUrl, limitMs: config.databaseWaitMs, logger });

    phase = "waiting for object storage";
    // Every concurrent upload holds about (queueSize + 1) × partSize: ingest runs many at once.
    const storage = await openStorage(config.storage, { upload: { partSizeBytes: config.uploadPartBytes, queueSize: config.uploadPartsInFlight }, logger });
    cleanups.push(() => storage.close());

    phase = "connecting to NATS";
    const nats = await connect({ servers: config.natsUrl, name: "callflow-ingest", reconnect: true, maxReconnectAttempts: -1, timeout: 5_000 });
    cleanups.push(() => nats.drain());
    const topo = topology(config.namespace);
    const notifierConsumer = notifierDeclaration({ timeoutMs: config.notifyTimeoutMs, maxAttempts: config.notifyMaxAttempts });
    // Invariant 9: creates what is missing, refuses to start on drift that needs an operator.
    await declareTopology(await jetstreamManager(nats), topo, [notifierConsumer], { logger });

    const publisher = createPublisher({ js: jetstream(nats), tracer: telemetry.tracer });
    const relay = createOutboxRelay({ db, publisher, logger, metrics });
    relay.start();
    cleanups.push(() => relay.stop());

    const notifier = await startConsumer({
      ...notifierConsumer,
      nats,
      topology: topo,
      handler: createDeliverNotification({
        db,
        send: fetchSender,
        maxAttempts: config.notifyMaxAttempts,
        timeoutMs: config.notifyTimeoutMs,
        backoffMs: exponentialBackoff(config.notifyRetryBaseMs),
      }),
      concurrency: 4,
      deadLetters: createPostgresDeadLetterSink({ db, topology: topo, relay, logger }),
      logger,
      metrics,
      tracer: telemetry.tracer,
    });
    cleanups.push(() => notifier.stop(10_000));

    const { app, uploads } = await createIngestApp({
      logger,
      db,
      store: storage.store,
      commit: outboxCommit(db, topo, relay),
      probe: ffprobeAudio({ ffprobePath: config.ffprobePath, timeoutMs: config.probeTimeoutMs }),
      apiKeys: cachedApiKeyLookup(postgresApiKeyLookup(db), config.apiKeyCacheMs),
      registry: metrics.registry,
      readiness: async () => ({
        postgres: await db.$queryRaw`SELECT 1`.then(() => true, (error: Error) => error.message),
        nats: nats.isClosed() ? "connection closed" : await nats.flush().then(() => true, (error: Error) => error.message),
        notifier: notifier.stats.bound || "notifier consumer not bound",
      }),
      maxUploadBytes: config.maxUploadBytes,
      rateLimitPerMinute: config.rateLimitPerMinute,
      recordingRedirect: config.recordingRedirect,
      publicUrl: config.publicUrl,
      resumable: { directory: config.tusDirectory, maxStagedBytes: config.tusMaxStagedBytes, expiryMs: config.tusExpiryMs },
      trimmer: ffmpegTrimmer({ ffmpegPath: config.ffmpegPath, timeoutMs: config.trimTimeoutMs }),
      ssePollMs: config.ssePollMs,
      reaperPolicy: config.reaperPolicy,
      publisher,
      webhooks: {
        twilioAuthToken: config.twilioAuthToken,
        assemblyAi: { header: config.assemblyAiWebhookHeader, secret: config.assemblyAiWebhookSecret },
      },
    });
    const expirySweep = setInterval(() => {
      uploads.cleanUpExpired().catch((error: unknown) => logger.warn({ err: error }, "cleaning expired tus uploads failed"));
    }, Math.min(config.tusExpiryMs, 3_600_000));
    expirySweep.unref();
    cleanups.push(async () => clearInterval(expirySweep));
    cleanups.push(() => app.close());

    // The start-up responder gives the port over to the API.
    await closeStartup();
    await app.listen({ host: config.host, port: startup.port });
    const address = app.server.address() as AddressInfo;
    const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
    logger.info({ url, namespace: config.namespace }, "ingest listening");
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
};
