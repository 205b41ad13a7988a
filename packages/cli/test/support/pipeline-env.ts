import { EMBEDDED_S3_CREDENTIALS } from "@callflow/storage";
import { testInfraUrls, type TestBucket, type TestDatabase, type TestNamespace } from "@callflow/testkit";

/** The environment every service of a test's pipeline reads: its own database, namespace and bucket. */
export const pipelineEnv = (database: TestDatabase, messaging: TestNamespace, storage: TestBucket): Record<string, string> => ({
  CALLFLOW_DATABASE_URL: database.url,
  CALLFLOW_NATS_URL: testInfraUrls().nats,
  CALLFLOW_NAMESPACE: messaging.namespace,
  CALLFLOW_S3_ENDPOINT: storage.endpoint,
  CALLFLOW_S3_BUCKET: storage.bucket,
  CALLFLOW_S3_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
  CALLFLOW_S3_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
  CALLFLOW_S3_LISTING_API: "ListObjects",
  CALLFLOW_INGEST_HOST: "127.0.0.1",
  CALLFLOW_INGEST_SSE_POLL_MS: "200",
  CALLFLOW_LOG_LEVEL: "warn",
});
