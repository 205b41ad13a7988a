import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { decodeEvent, events, type EventKey, type EventOf, type Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { createLogger } from "@callflow/telemetry";
import { test as infra, testInfraUrls } from "@callflow/testkit";
import { createApiKey, ingestConfigFromEnv, start, type IngestHandle } from "../../src/index.ts";

export interface TenantKey {
  tenantId: string;
  key: string;
  keyId: string;
}

export interface IngestUnderTest {
  url: string;
  db: Db;
  topology: Topology;
  jsm: JetStreamManager;
  /** A tenant with an API key (no scopes). */
  tenant: TenantKey;
  /** Another tenant, for isolation checks. */
  otherTenant: TenantKey;
  createTenant(name: string, scopes?: string[]): Promise<TenantKey>;
  /** fetch against the API with tenant's key unless `key` says otherwise. */
  api(path: string, init?: RequestInit & { key?: string | null; duplex?: "half" }): Promise<Response>;
  /** Every event of this kind in the namespace's stream, decoded, in stream order. */
  tusDirectory: string;
  events<K extends EventKey>(key: K): Promise<EventOf<K>[]>;
  stop(): Promise<void>;
}

export const readEvents = async <K extends EventKey>(nats: NatsConnection, topology: Topology, key: K): Promise<EventOf<K>[]> => {
  const jsm = await jetstreamManager(nats);
  const stream = topology.stream(events[key].stream);
  const subject = topology.subject(key);
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  const count = info.state.subjects?.[subject] ?? 0;
  if (count === 0) return [];
  const js = jetstream(nats);
  const consumer = await js.consumers.get(stream, { filter_subjects: subject });
  const messages = await consumer.fetch({ max_messages: count, expires: 2_000 });
  const decoded: EventOf<K>[] = [];
  for await (const message of messages) {
    decoded.push(decodeEvent(key, message.data));
    if (decoded.length === count) break;
  }
  return decoded;
};

export const createTenantWithKey = async (db: Db, name: string, scopes: string[] = []): Promise<TenantKey> => {
  const tenant = await db.tenant.create({ data: { name }, select: { id: true } });
  const { id, key } = await createApiKey(db, { tenantId: tenant.id, name: `${name} test key`, scopes });
  return { tenantId: tenant.id, key, keyId: id };
};

/** Starts ingest on the test's own database, namespace and bucket; `env` overrides configuration. */
export const startIngestUnderTest = async (
  infraFixtures: {
    database: { url: string; db: Db };
    messaging: { namespace: string; topology: Topology; nats: NatsConnection; url?: string };
    storage: { endpoint: string; bucket: string };
  },
  env: Record<string, string> = {},
): Promise<IngestUnderTest> => {
  const { database, messaging, storage } = infraFixtures;
  const jsm = await jetstreamManager(messaging.nats);
  const tusDirectory = await mkdtemp(path.join(tmpdir(), "ingest-tus-"));
  const config = ingestConfigFromEnv({
    CALLFLOW_DATABASE_URL: database.url,
    CALLFLOW_DATABASE_POOL_SIZE: "4",
    CALLFLOW_NATS_URL: messaging.url ?? testInfraUrls().nats,
    CALLFLOW_NAMESPACE: messaging.namespace,
    CALLFLOW_S3_ENDPOINT: storage.endpoint,
    CALLFLOW_S3_BUCKET: storage.bucket,
    CALLFLOW_S3_ACCESS_KEY_ID: "S3RVER",
    CALLFLOW_S3_SECRET_ACCESS_KEY: "S3RVER",
    CALLFLOW_INGEST_HOST: "127.0.0.1",
    CALLFLOW_INGEST_PORT: "0",
    CALLFLOW_INGEST_API_KEY_CACHE_MS: "1",
    CALLFLOW_INGEST_TUS_DIR: tusDirectory,
    ...env,
  });
  const handle: IngestHandle = await start(config, { logger: createLogger({ service: "ingest", level: process.env.INGEST_TEST_LOG_LEVEL ?? "silent" }) });
  const tenant = await createTenantWithKey(database.db, "tenant-a");
  const otherTenant = await createTenantWithKey(database.db, "tenant-b");
  return {
    url: handle.url,
    db: database.db,
    topology: messaging.topology,
    jsm,
    tenant,
    otherTenant,
    createTenant: (name, scopes) => createTenantWithKey(database.db, name, scopes),
    api: (path, init = {}) => {
      const { key, headers, ...rest } = init;
      const auth: Record<string, string> = key === null ? {} : { authorization: `Bearer ${key ?? tenant.key}` };
      return fetch(`${handle.url}${path}`, { ...rest, headers: { ...auth, ...(headers as Record<string, string> | undefined) } });
    },
    events: (key) => readEvents(messaging.nats, messaging.topology, key),
    tusDirectory,
    stop: async () => {
      await handle.stop();
      await rm(tusDirectory, { recursive: true, force: true });
    },
  };
};

/** testkit's `test` plus a running ingest service on the test's own infrastructure. */
export const test = infra.extend<{ ingestEnv: Record<string, string>; ingest: IngestUnderTest }>({
  /** Configuration overrides for a describe block: `test.scoped({ ingestEnv: {...} })`. */
  ingestEnv: [{}, { injected: false }],
  ingest: async ({ database, messaging, storage, ingestEnv }, use) => {
    const ingest = await startIngestUnderTest({ database, messaging, storage }, ingestEnv);
    try {
      await use(ingest);
    } finally {
      await ingest.stop();
    }
  },
});

export { describe, expect } from "@callflow/testkit";
