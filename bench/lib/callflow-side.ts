// Callflow as the pipeline benches run it: every service in one process (`callflow up`), on its own
// test database and NATS namespace, with transcription through a local OpenAI-compatible server.
import { startStack } from "../../packages/cli/src/stack.ts";
import type { Db } from "../../packages/db/src/index.ts";
import type { Env } from "../../packages/config/src/index.ts";
import { testInfraUrls } from "../../packages/testkit/src/env.ts";
import { createTestNamespace } from "../../packages/testkit/src/nats.ts";
import { createTestDatabase } from "../../packages/testkit/src/postgres.ts";
import { uploadOverHttp, type UploadCall } from "./recorder-load.ts";

/** The settings both sides of a comparison read: same provider, same worker concurrency. */
export const pipelineBenchEnv = (databaseUrl: string, providerUrl: string): Env => ({
  ...process.env,
  CALLFLOW_DATABASE_URL: databaseUrl,
  CALLFLOW_LOG_LEVEL: "warn",
  CALLFLOW_TRANSCRIPTION_PROVIDER: "openai",
  CALLFLOW_OPENAI_BASE_URL: providerUrl,
  CALLFLOW_OPENAI_API_KEY: "bench-key",
  CALLFLOW_TRANSCRIPTION_CONCURRENCY: process.env.CALLFLOW_TRANSCRIPTION_CONCURRENCY ?? "16",
  CALLFLOW_INGEST_RATE_LIMIT_PER_MINUTE: "1000000",
});

export interface BenchSide {
  db: Db;
  upload: UploadCall;
  stop(): Promise<void>;
}

export async function startCallflowSide(providerUrl: string): Promise<BenchSide & { databaseUrl: string }> {
  const urls = testInfraUrls();
  const database = await createTestDatabase(urls.postgres);
  const messaging = await createTestNamespace(urls.nats);
  const stack = await startStack({ ...pipelineBenchEnv(database.url, providerUrl), CALLFLOW_NAMESPACE: messaging.namespace }, { randomPorts: true });
  return {
    db: database.db,
    databaseUrl: database.url,
    upload: uploadOverHttp(stack.apiUrl, stack.apiKey),
    stop: async () => {
      await stack.stop();
      await messaging.cleanup();
      await database.drop();
    },
  };
}
