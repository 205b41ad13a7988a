import type { Registry } from "prom-client";
import type { Db } from "@callflow/db";
import type { ObjectStore } from "@callflow/storage";
import type { Logger, ReadinessChecks } from "@callflow/telemetry";
import type { ApiKeyLookup } from "./auth/api-keys.ts";
import type { AudioProbe } from "./audio/probe.ts";
import type { EstimateTuning } from "./calls/artifact-answer.ts";
import type { Commit } from "./calls/commit.ts";
import { createHttpApp } from "./http/app.ts";
import { defaultConsoleDirectory, registerConsole } from "./http/console.ts";
import { artifactRoutes } from "./routes/artifacts.ts";
import { callReadRoutes, callUploadRoutes } from "./routes/calls.ts";
import { dialRecordingRoutes } from "./routes/dial-recording.ts";
import { dialRoutes } from "./routes/dials.ts";
import { leadRoutes } from "./routes/leads.ts";
import { dncRoutes } from "./routes/dnc.ts";
import { recorderChunkRoutes, recorderRoutes } from "./routes/recorder.ts";
import { resumableRoutes, UPLOADS_PATH } from "./routes/resumable.ts";
import { notificationRoutes } from "./routes/notifications.ts";
import { settingsRoutes } from "./routes/settings.ts";
import { adminRoutes } from "./routes/admin.ts";
import { adminMetricsRoutes } from "./routes/admin-metrics.ts";
import { meRoutes } from "./routes/me.ts";
import type { OutboxPublisher, OutboxRelay } from "@callflow/messaging";
import type { Topology } from "@callflow/contracts";
import type { ReaperPolicy } from "@callflow/housekeeping";
import { progressRoutes } from "./routes/progress.ts";
import { reprocessRoutes } from "./routes/reprocess.ts";
import { webhookRoutes, type WebhookDeps } from "./routes/webhooks.ts";
import type { AudioTrimmer } from "./audio/trim.ts";
import { createResumableUploads, type ResumableOptions } from "./uploads/resumable.ts";

export interface IngestAppDeps {
  logger: Logger;
  db: Db;
  store: ObjectStore;
  commit: Commit;
  probe: AudioProbe;
  apiKeys: ApiKeyLookup;
  registry: Registry;
  readiness: () => Promise<ReadinessChecks>;
  maxUploadBytes: number;
  rateLimitPerMinute: number;
  recordingRedirect: boolean;
  publicUrl: string | undefined;
  estimate?: EstimateTuning;
  resumable: Omit<ResumableOptions, "path">;
  trimmer: AudioTrimmer;
  ssePollMs: number;
  publisher: OutboxPublisher;
  topology: Pick<Topology, "eventForSubject">;
  relay: Pick<OutboxRelay, "publishNow">;
  webhooks: Pick<WebhookDeps, "twilioAuthToken" | "assemblyAi">;
  /** The console's built assets; default the workspace's packages/console/dist. */
  consoleDirectory?: string | undefined;
  /** Deadlines for the admin sweep and stuck view; default the reaper's defaults. */
  reaperPolicy?: ReaperPolicy;
}

/** The whole public API over its ports; main.ts and the tests give it real clients. */
export const createIngestApp = async (deps: IngestAppDeps) => {
  const app = await createHttpApp({
    logger: deps.logger,
    apiKeys: deps.apiKeys,
    rateLimitPerMinute: deps.rateLimitPerMinute,
    publicUrl: deps.publicUrl,
    ops: { registry: deps.registry, readiness: deps.readiness },
  });
  const callDeps = { db: deps.db, store: deps.store, commit: deps.commit, probe: deps.probe, maxUploadBytes: deps.maxUploadBytes };
  await app.register(callUploadRoutes(callDeps));
  await app.register(recorderChunkRoutes(callDeps));
  await app.register(recorderRoutes(callDeps));
  await app.register(callReadRoutes(callDeps));
  const uploads = await createResumableUploads({ ...callDeps, logger: deps.logger }, { ...deps.resumable, path: UPLOADS_PATH });
  await app.register(resumableRoutes({ db: deps.db, uploads }));
  await app.register(progressRoutes({ db: deps.db, pollMs: deps.ssePollMs }));
  await app.register(reprocessRoutes({ ...callDeps, trimmer: deps.trimmer }));
  await app.register(webhookRoutes({ commit: deps.commit, publicUrl: deps.publicUrl, ...deps.webhooks }));
  await app.register(notificationRoutes({ db: deps.db }));
  await app.register(settingsRoutes({ db: deps.db }));
  await app.register(dialRoutes({ db: deps.db, commit: deps.commit }));
  await app.register(dncRoutes({ db: deps.db }));
  await app.register(leadRoutes({ db: deps.db }));
  await app.register(adminRoutes({ db: deps.db, topology: deps.topology, publisher: deps.publisher, relay: deps.relay, commit: deps.commit, store: deps.store, logger: deps.logger, reaperPolicy: deps.reaperPolicy }));
  await app.register(adminMetricsRoutes({ db: deps.db }));
  await app.register(meRoutes({ db: deps.db }));
  const artifactDeps = {
    db: deps.db,
    store: deps.store,
    recordingRedirect: deps.recordingRedirect,
    reaperPolicy: deps.reaperPolicy,
    ...(deps.estimate ? { estimate: deps.estimate } : {}),
  };
  await app.register(artifactRoutes(artifactDeps));
  await app.register(dialRecordingRoutes({ ...artifactDeps, commit: deps.commit }));
  await registerConsole(app, { directory: deps.consoleDirectory ?? defaultConsoleDirectory() });
  return { app, uploads };
};
