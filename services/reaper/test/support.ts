import { randomUUID } from "node:crypto";
import { decodeEvent, encodeEvent, type EventKey, type EventOf, type Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { test as infra, testInfraUrls } from "@callflow/testkit";
import { reaperConfigFromEnv, start, type ReaperHandle } from "../src/index.ts";

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;

/** Small deadlines so a test moves the sweep's clock by minutes, never waits. */
export const reaperEnv = (infraFixtures: { database: { url: string }; messaging: { namespace: string }; storage: { endpoint: string; bucket: string } }, env: Record<string, string> = {}) => ({
  CALLFLOW_DATABASE_URL: infraFixtures.database.url,
  CALLFLOW_DATABASE_POOL_SIZE: "4",
  CALLFLOW_NATS_URL: testInfraUrls().nats,
  CALLFLOW_NAMESPACE: infraFixtures.messaging.namespace,
  CALLFLOW_LOG_LEVEL: process.env.REAPER_TEST_LOG_LEVEL ?? "silent",
  CALLFLOW_REAPER_OPS_PORT: "0",
  CALLFLOW_REAPER_INTERVAL_MS: "3600000",
  CALLFLOW_REAPER_TRANSCRIPTION_QUEUED_MS: "60000",
  CALLFLOW_REAPER_TRANSCRIPTION_HEARTBEAT_MS: "60000",
  CALLFLOW_REAPER_TRANSCRIPTION_MAX_RUN_MS: "300000",
  CALLFLOW_REAPER_TRANSCRIPTION_MAX_RUN_PER_AUDIO_SECOND_MS: "2000",
  CALLFLOW_REAPER_MERGE_QUEUED_MS: "60000",
  CALLFLOW_REAPER_SUMMARY_HEARTBEAT_MS: "60000",
  CALLFLOW_REAPER_MAX_REDRIVES: "3",
  CALLFLOW_REAPER_UNSETTLED_MS: "60000",
  CALLFLOW_REAPER_OUTBOX_STALE_MS: "60000",
  CALLFLOW_REAPER_ABANDONED_UPLOAD_MS: "3600000",
  CALLFLOW_S3_ENDPOINT: infraFixtures.storage.endpoint,
  CALLFLOW_S3_BUCKET: infraFixtures.storage.bucket,
  CALLFLOW_S3_ACCESS_KEY_ID: "S3RVER",
  CALLFLOW_S3_SECRET_ACCESS_KEY: "S3RVER",
  ...env,
});

/** The reaper as shipped: only connections set, every CALLFLOW_REAPER_* deadline and limit at its default. */
export const startReaperWithDefaults = (fixtures: Parameters<typeof reaperEnv>[0]): Promise<ReaperHandle> => {
  const kept = new Set(["CALLFLOW_REAPER_OPS_PORT", "CALLFLOW_REAPER_INTERVAL_MS"]);
  const env = Object.fromEntries(Object.entries(reaperEnv(fixtures)).filter(([name]) => kept.has(name) || !name.startsWith("CALLFLOW_REAPER_")));
  return start(reaperConfigFromEnv(env), { timer: false, outboxSweeper: false });
};

export const startReaper = (fixtures: Parameters<typeof reaperEnv>[0], env: Record<string, string> = {}): Promise<ReaperHandle> =>
  start(reaperConfigFromEnv(reaperEnv(fixtures, env)), { timer: false, outboxSweeper: false });

/** testkit's `test` plus a reaper on the test's own database, namespace and bucket (no timer). */
export const test = infra.extend<{ reaper: ReaperHandle }>({
  reaper: async ({ database, messaging, storage }, use) => {
    const reaper = await startReaper({ database, messaging, storage });
    try {
      await use(reaper);
    } finally {
      await reaper.stop();
    }
  },
});

export { describe, expect } from "@callflow/testkit";

export const later = (from: Date, ms: number): Date => new Date(from.getTime() + ms);

/** The events of one kind in the outbox (published or not), decoded, oldest first. */
export const outboxEvents = async <K extends EventKey>(db: Db, topology: Topology, key: K): Promise<EventOf<K>[]> => {
  const rows = await db.outboxEvent.findMany({ where: { subject: topology.subject(key) }, orderBy: { createdAt: "asc" }, select: { payload: true } });
  return rows.map((row) => decodeEvent(key, row.payload));
};

export const createTenant = async (db: Db, webhookUrl?: string) =>
  db.tenant.create({ data: { name: `tenant-${randomUUID().slice(0, 8)}`, ...(webhookUrl ? { webhookUrl } : {}) }, select: { id: true } });

/** A processing call with one chunk in the given state, as ingest and the worker would leave it. */
/** A 30-second uploaded call with its transcript (audio version 1): the state merge and summary start from. */
export const createTranscribedCall = async (db: Db, input: { tenantId: string; status: "processing" | "completed" }) => {
  const call = await db.call.create({ data: { tenantId: input.tenantId, source: "upload", status: input.status, durationSeconds: 30 }, select: { id: true } });
  const transcript = await db.transcript.create({ data: { tenantId: input.tenantId, callId: call.id, audioVersion: 1, text: "t", segments: [] }, select: { id: true } });
  return { call, transcript };
};

export const createCallWithChunk = async (
  db: Db,
  input: { tenantId: string; at: Date; chunk: { status: "queued" | "running" | "transcribed"; attempt?: number; startedAt?: Date | null; heartbeatAt?: Date | null; durationSeconds?: number; providerJobId?: string }; failurePolicy?: "fail" | "partial" },
) => {
  const call = await db.call.create({
    data: {
      tenantId: input.tenantId,
      source: "upload",
      status: "processing",
      uploadFinishedAt: input.at,
      expectedChunkCount: 1,
      failurePolicy: input.failurePolicy ?? "fail",
      createdAt: input.at,
      updatedAt: input.at,
    },
    select: { id: true },
  });
  await db.stageRun.create({ data: { tenantId: input.tenantId, callId: call.id, stage: "transcription", status: "queued", createdAt: input.at, updatedAt: input.at } });
  const chunk = await db.chunk.create({
    data: {
      tenantId: input.tenantId,
      callId: call.id,
      index: 0,
      objectKey: `tenants/${input.tenantId}/calls/${call.id}/v1/chunks/0.wav`,
      status: input.chunk.status,
      attempt: input.chunk.attempt ?? 0,
      startedAt: input.chunk.startedAt ?? null,
      heartbeatAt: input.chunk.heartbeatAt ?? null,
      durationSeconds: input.chunk.durationSeconds ?? 30,
      providerJobId: input.chunk.providerJobId ?? null,
      provider: input.chunk.providerJobId ? "assemblyai" : null,
      createdAt: input.at,
      updatedAt: input.at,
    },
  });
  return { callId: call.id, chunk };
};

export const auditOf = (db: Db, entityId: string) => db.auditEntry.findMany({ where: { entityId }, orderBy: { at: "asc" } });

export const rawOutboxRow = (db: Db, topology: Topology, createdAt: Date) =>
  db.outboxEvent.create({
    data: { subject: topology.subject("callCompleted"), payload: new Uint8Array(encodeEvent("callCompleted", { tenantId: randomUUID(), callId: randomUUID() })), createdAt },
    select: { id: true },
  });
