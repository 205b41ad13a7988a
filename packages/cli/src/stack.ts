import { randomBytes } from "node:crypto";
import { createDb } from "@callflow/db";
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3, storageConfigFromEnv } from "@callflow/storage";
import * as aggregator from "@callflow/aggregator";
import * as ingest from "@callflow/ingest";
import * as merge from "@callflow/merge";
import * as outboundDialer from "@callflow/outbound-dialer";
import * as reaper from "@callflow/reaper";
import * as summary from "@callflow/summary";
import * as transcription from "@callflow/transcription";
import { prepareDatabase } from "./database.ts";
import { ensureDevApiKey } from "./dev-tenant.ts";

type Env = Record<string, string | undefined>;

export interface Stack {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly tenantId: string;
  /** Each worker's /metrics, /healthz, /readyz. */
  readonly opsUrls: Readonly<Record<string, string>>;
  readonly storageEndpoint: string;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Pick free ports for the API and every ops server (tests, benchmarks); default the configured ones. */
  randomPorts?: boolean;
  log?: (line: string) => void;
}

interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Every Callflow service in this process on the embedded defaults: one s3rver shared by all (each
 * service would otherwise start its own), pocketsphinx, the extractive summarizer. Postgres and
 * NATS are the local servers, the dialer's carrier the simulated one. Each service is started exactly
 * as its own main.ts would start it.
 */
export async function startStack(baseEnv: Env = process.env, options: StackOptions = {}): Promise<Stack> {
  const log = options.log ?? (() => undefined);
  const env: Env = { ...baseEnv };
  env.CALLFLOW_DATABASE_URL ??= "postgresql://postgres@127.0.0.1:5432/callflow";
  // The simulated carrier signs its callbacks with this token and ingest checks them with it; a
  // fresh one per run, so no token lives in the repository.
  if ((env.CALLFLOW_TELEPHONY_PROVIDER ?? "simulated") === "simulated") env.CALLFLOW_TWILIO_AUTH_TOKEN ??= randomBytes(24).toString("hex");
  if (options.randomPorts) {
    env.CALLFLOW_INGEST_PORT = "0";
    env.CALLFLOW_INGEST_HOST ??= "127.0.0.1";
    for (const name of ["TRANSCRIPTION", "AGGREGATOR", "MERGE", "SUMMARY", "REAPER", "DIALER"]) env[`CALLFLOW_${name}_OPS_PORT`] = "0";
  }
  const running: Stoppable[] = [];
  const stop = async () => {
    for (const service of running.splice(0).reverse()) await service.stop().catch((error: unknown) => log(`stop failed: ${(error as Error).message}`));
  };

  try {
    await prepareDatabase(env.CALLFLOW_DATABASE_URL);
    const storage = storageConfigFromEnv(env);
    let storageEndpoint = storage.endpoint;
    if (storageEndpoint === undefined) {
      const embedded = await startEmbeddedS3({ bucket: storage.bucket, port: storage.embedded.port, ...(storage.embedded.directory ? { directory: storage.embedded.directory } : {}) });
      running.push({ stop: () => embedded.close() });
      storageEndpoint = embedded.endpoint;
      env.CALLFLOW_S3_ENDPOINT = embedded.endpoint;
      env.CALLFLOW_S3_ACCESS_KEY_ID = EMBEDDED_S3_CREDENTIALS.accessKeyId;
      env.CALLFLOW_S3_SECRET_ACCESS_KEY = EMBEDDED_S3_CREDENTIALS.secretAccessKey;
      env.CALLFLOW_S3_LISTING_API ??= embedded.listingApi;
    }

    const db = createDb(env.CALLFLOW_DATABASE_URL, { poolSize: 1 });
    const dev = await ensureDevApiKey(db, env.CALLFLOW_DEV_API_KEY).finally(() => db.$disconnect());

    const api = await ingest.start(ingest.ingestConfigFromEnv(env));
    running.push(api);
    log(`ingest listening on ${api.url}`);
    // The carrier's status callbacks come back to this stack's own API.
    env.CALLFLOW_DIALER_CALLBACK_BASE_URL ??= api.url;
    const opsUrls: Record<string, string> = {};
    const workers: [string, () => Promise<Stoppable & { opsUrl: string }>][] = [
      ["transcription", () => transcription.start(transcription.transcriptionConfigFromEnv(env))],
      ["aggregator", () => aggregator.start(aggregator.aggregatorConfigFromEnv(env))],
      ["merge", () => merge.start(merge.mergeConfigFromEnv(env))],
      ["summary", () => summary.start(summary.summaryConfigFromEnv(env))],
      ["reaper", () => reaper.start(reaper.reaperConfigFromEnv(env))],
      ["outbound-dialer", () => outboundDialer.start(outboundDialer.dialerConfigFromEnv(env))],
    ];
    for (const [name, begin] of workers) {
      const worker = await begin();
      running.push(worker);
      opsUrls[name] = worker.opsUrl;
      log(`${name} started (${worker.opsUrl}/metrics)`);
    }
    return { apiUrl: api.url, apiKey: dev.key, tenantId: dev.tenantId, opsUrls, storageEndpoint, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
