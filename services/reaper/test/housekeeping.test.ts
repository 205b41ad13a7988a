import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { commitWithEvents } from "@callflow/messaging";
import type { ObjectStore, PendingMultipartUpload } from "@callflow/storage";
import { waitFor } from "@callflow/testkit";
import { sweepNow, type SweeperDeps } from "@callflow/housekeeping";
import { reaperConfigFromEnv } from "../src/index.ts";
import { describe, expect, test, auditOf, createCallWithChunk, createTenant, later, MINUTE, outboxEvents, rawOutboxRow, reaperEnv, SECOND, startReaper } from "./support.ts";

describe("housekeeping sweeps", () => {
  test("an unpublished outbox row, a stale dial, abandoned uploads and an orphan object are each handled and audited", async ({ reaper, database, messaging, storage }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);

    const outbox = await rawOutboxRow(db, messaging.topology, later(t0, -2 * MINUTE));
    const freshOutbox = await rawOutboxRow(db, messaging.topology, t0);
    const dial = await db.dial.create({ data: { tenantId: tenant.id, toNumber: "+15550100", dedupKey: "lead-1", status: "placing", attempt: 1, startedAt: later(t0, -2 * MINUTE), createdAt: later(t0, -2 * MINUTE) } });
    const placed = await db.dial.create({ data: { tenantId: tenant.id, toNumber: "+15550101", status: "ringing", providerCallId: "CA1", startedAt: later(t0, -2 * MINUTE), createdAt: later(t0, -2 * MINUTE) } });

    const abandonedAt = later(t0, -2 * 60 * MINUTE);
    const withChunks = await db.call.create({ data: { tenantId: tenant.id, source: "recorder", status: "uploading", createdAt: abandonedAt }, select: { id: true } });
    await db.chunk.create({ data: { tenantId: tenant.id, callId: withChunks.id, index: 0, objectKey: `tenants/${tenant.id}/calls/${withChunks.id}/v1/chunks/0.wav`, status: "queued", durationSeconds: 4, sizeBytes: 100n, createdAt: abandonedAt, updatedAt: abandonedAt } });
    const empty = await db.call.create({ data: { tenantId: tenant.id, source: "recorder", status: "uploading", createdAt: abandonedAt }, select: { id: true } });
    // Created long ago but a chunk arrived a minute ago: still recording, never touched.
    const live = await db.call.create({ data: { tenantId: tenant.id, source: "recorder", status: "uploading", createdAt: abandonedAt }, select: { id: true } });
    await db.chunk.create({ data: { tenantId: tenant.id, callId: live.id, index: 0, objectKey: `tenants/${tenant.id}/calls/${live.id}/v1/chunks/0.wav`, status: "queued", createdAt: later(t0, -MINUTE), updatedAt: later(t0, -MINUTE) } });

    const { actions } = await reaper.sweepNow({ now: t0 });
    const by = (id: string) => actions.filter((a) => a.entityId === id).map((a) => `${a.kind}:${a.outcome}`);
    expect(by(outbox.id)).toEqual(["outbox.republish:applied"]);
    expect(by(freshOutbox.id)).toEqual([]);
    expect(by(dial.id)).toEqual(["dial.fail:applied"]);
    expect(by(placed.id)).toEqual([]);
    expect(by(withChunks.id)).toEqual(["upload.finish:applied", "multipart.abort_unsupported:failed"]);
    expect(by(empty.id)).toEqual(["upload.fail:applied", "multipart.abort_unsupported:failed"]);
    expect(by(live.id)).toEqual([]);

    expect((await db.outboxEvent.findUniqueOrThrow({ where: { id: outbox.id } })).publishedAt).not.toBeNull();
    expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "failed", errorCode: "provider_no_sid" });
    expect(await db.call.findUniqueOrThrow({ where: { id: withChunks.id } })).toMatchObject({ status: "processing", expectedChunkCount: 1, durationSeconds: 4 });
    expect(await db.stageRun.findMany({ where: { callId: withChunks.id } })).toEqual([expect.objectContaining({ stage: "transcription", status: "queued" })]);
    expect(await outboxEvents(db, messaging.topology, "callUploadFinished")).toEqual([expect.objectContaining({ callId: withChunks.id, chunkCount: 1 })]);
    expect(await db.call.findUniqueOrThrow({ where: { id: empty.id } })).toMatchObject({ status: "failed", errorCode: "upload_abandoned" });
    expect(await db.call.findUniqueOrThrow({ where: { id: live.id } })).toMatchObject({ status: "uploading" });

    for (const id of [outbox.id, dial.id, withChunks.id, empty.id]) {
      const audit = await auditOf(db, id);
      expect(audit.length).toBeGreaterThan(0);
      for (const entry of audit) expect(entry).toMatchObject({ actor: "reaper", dryRun: false, sweepId: expect.any(String), reason: expect.any(String) });
    }
    expect((await auditOf(db, empty.id)).find((e) => e.action === "multipart.abort_unsupported")?.reason).toContain("unsupported here");

    // Orphans: only objects older than 24 h that no row references.
    const orphanKey = `tenants/${tenant.id}/calls/${randomUUID()}/v1/chunks/0.wav`;
    const referencedKey = `tenants/${tenant.id}/calls/${withChunks.id}/v1/chunks/0.wav`;
    const foreignKey = `exports/${randomUUID()}.csv`;
    for (const key of [orphanKey, referencedKey, foreignKey]) await storage.store.putStream(key, Readable.from([Buffer.from("RIFF")]));
    expect((await reaper.sweepNow({ now: t0 })).actions.filter((a) => a.entityType === "object")).toEqual([]);
    const dayLater = await reaper.sweepNow({ now: later(t0, 25 * 60 * MINUTE) });
    expect(dayLater.actions.filter((a) => a.entityType === "object").map((a) => [a.kind, a.entityId, a.outcome])).toEqual([["object.delete", orphanKey, "applied"]]);
    expect(await storage.store.head(orphanKey)).toBeNull();
    expect(await storage.store.head(referencedKey)).not.toBeNull();
    expect(await storage.store.head(foreignKey)).not.toBeNull();
    expect((await auditOf(db, orphanKey)).map((e) => e.action)).toEqual(["object.delete"]);
  });

  test("a dial in placing with no provider call id a minute on is failed provider_no_sid, which frees its dedup key; a younger one and waiting ones are left alone", async ({ reaper, database, messaging }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const dedupKey = "+14155552671|renewals";
    const placing = (startedAt: Date, key: string) =>
      db.dial.create({ data: { tenantId: tenant.id, toNumber: "+14155552671", dedupKey: key, status: "placing", attempt: 1, startedAt, heartbeatAt: startedAt, createdAt: later(t0, -5 * MINUTE) } });
    const stuck = await placing(later(t0, -61 * SECOND), dedupKey);
    const young = await placing(later(t0, -59 * SECOND), "+14155552672|renewals");
    const scheduled = await db.dial.create({ data: { tenantId: tenant.id, toNumber: "+14155552673", dedupKey: "+14155552673|", status: "scheduled", createdAt: later(t0, -10 * MINUTE) } });
    const again = { tenantId: tenant.id, toNumber: "+14155552671", dedupKey, status: "queued" as const };
    // While the stuck dial is active, the database refuses a second dial with its key.
    await expect(db.dial.create({ data: again })).rejects.toMatchObject({ code: "P2002" });

    const { actions } = await reaper.sweepNow({ now: t0 });
    expect(actions.filter((a) => a.entityType === "dial").map((a) => [a.entityId, a.kind, a.outcome])).toEqual([[stuck.id, "dial.fail", "applied"]]);
    expect(await db.dial.findUniqueOrThrow({ where: { id: stuck.id } })).toMatchObject({ status: "failed", errorCode: "provider_no_sid", finishedAt: t0 });
    expect(await db.dialEvent.findMany({ where: { dialId: stuck.id } })).toEqual([expect.objectContaining({ status: "failed", attempt: 1, errorCode: "provider_no_sid", at: t0 })]);
    expect(await outboxEvents(db, messaging.topology, "dialStatusChanged")).toEqual([expect.objectContaining({ dialId: stuck.id, status: "failed" })]);
    expect(await db.dial.findUniqueOrThrow({ where: { id: young.id } })).toMatchObject({ status: "placing", errorCode: null });
    expect(await db.dial.findUniqueOrThrow({ where: { id: scheduled.id } })).toMatchObject({ status: "scheduled" });

    expect(await db.dial.create({ data: again })).toMatchObject({ status: "queued", dedupKey });
  });

  test("an outbox row that still cannot be published is audited as a failed republish", async ({ database, messaging, storage }) => {
    const { db } = database;
    const t0 = new Date();
    const reaper = await startReaper({ database, messaging, storage });
    try {
      const row = await db.outboxEvent.create({ data: { subject: "nowhere.no_stream_listens", payload: new Uint8Array([1]), createdAt: later(t0, -2 * MINUTE) }, select: { id: true } });
      const { actions } = await reaper.sweepNow({ now: t0 });
      expect(actions.map((a) => [a.entityId, a.kind, a.outcome])).toEqual([[row.id, "outbox.republish_failed", "failed"]]);
      expect(await auditOf(db, row.id)).toEqual([expect.objectContaining({ action: "outbox.republish_failed" })]);
      expect((await db.outboxEvent.findUniqueOrThrow({ where: { id: row.id } })).publishedAt).toBeNull();
    } finally {
      await reaper.stop();
    }
  });

  test("an outbox row refused past its give-up deadline is given up once and no longer tried; a never-tried one is published first", async ({ database, messaging, storage }) => {
    const { db } = database;
    const t0 = new Date();
    const reaper = await startReaper({ database, messaging, storage }, { CALLFLOW_REAPER_OUTBOX_GIVE_UP_MS: String(60 * MINUTE) });
    try {
      const refused = await db.outboxEvent.create({
        data: { subject: "nowhere.no_stream_listens", payload: new Uint8Array([1]), createdAt: later(t0, -61 * MINUTE), attempts: 40, lastError: "NoRespondersError: no responders" },
        select: { id: true },
      });
      const recent = await db.outboxEvent.create({ data: { subject: "nowhere.no_stream_listens", payload: new Uint8Array([2]), createdAt: later(t0, -59 * MINUTE), attempts: 40 }, select: { id: true } });
      const neverTried = await rawOutboxRow(db, messaging.topology, later(t0, -2 * 60 * MINUTE));

      const { actions } = await reaper.sweepNow({ now: t0 });
      expect(actions.map((a) => [a.entityId, a.kind, a.outcome]).sort()).toEqual(
        [[refused.id, "outbox.give_up", "applied"], [recent.id, "outbox.republish_failed", "failed"], [neverTried.id, "outbox.republish", "applied"]].sort(),
      );
      expect(await db.outboxEvent.findUniqueOrThrow({ where: { id: refused.id } })).toMatchObject({ failedAt: t0, publishedAt: null, attempts: 40 });
      expect(await auditOf(db, refused.id)).toEqual([expect.objectContaining({ action: "outbox.give_up", reason: expect.stringContaining("no responders") })]);

      // Neither the reaper nor the relay looks at it again.
      const later1 = await reaper.sweepNow({ now: later(t0, MINUTE) });
      expect(later1.actions.map((a) => a.entityId)).not.toContain(refused.id);
      expect(await reaper.context.relay.publishNow([refused.id])).toBe(0);
      expect(await db.outboxEvent.findUniqueOrThrow({ where: { id: refused.id } })).toMatchObject({ attempts: 40, publishedAt: null });
      expect(await auditOf(db, refused.id)).toHaveLength(1);
    } finally {
      await reaper.stop();
    }
  });

  test("a dry run changes nothing and reports what it would do", async ({ reaper, database, messaging }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const { chunk, callId } = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -10 * MINUTE), chunk: { status: "running", attempt: 1, startedAt: later(t0, -5 * MINUTE), heartbeatAt: later(t0, -2 * MINUTE) } });
    const dial = await db.dial.create({ data: { tenantId: tenant.id, toNumber: "+15550100", status: "placing", createdAt: later(t0, -2 * MINUTE) } });
    const outbox = await rawOutboxRow(db, messaging.topology, later(t0, -2 * MINUTE));
    const outboxBefore = await db.outboxEvent.count();

    const { actions, dryRun } = await reaper.sweepNow({ now: t0, dryRun: true });
    expect(dryRun).toBe(true);
    expect(actions.map((a) => [a.entityId, a.kind, a.outcome]).sort()).toEqual(
      [[chunk.id, "chunk.redrive", "dry_run"], [dial.id, "dial.fail", "dry_run"], [outbox.id, "outbox.republish", "dry_run"]].sort(),
    );
    expect(await db.chunk.findUniqueOrThrow({ where: { id: chunk.id } })).toMatchObject({ status: "running", attempt: 1 });
    expect(await db.call.findUniqueOrThrow({ where: { id: callId } })).toMatchObject({ status: "processing" });
    expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "placing" });
    expect((await db.outboxEvent.findUniqueOrThrow({ where: { id: outbox.id } })).publishedAt).toBeNull();
    expect(await db.outboxEvent.count()).toBe(outboxBefore);
    // What it would have done is on the audit log, flagged, and does not count as a re-drive.
    expect((await db.auditEntry.findMany()).every((e) => e.dryRun)).toBe(true);
    const real = await reaper.sweepNow({ now: t0 });
    expect(real.actions.find((a) => a.entityId === chunk.id)).toMatchObject({ kind: "chunk.redrive", outcome: "applied" });
  });

  test("two reapers sweeping at once act on every entity exactly once", async ({ database, messaging, storage }) => {
    const { db } = database;
    const t0 = new Date();
    const [a, b] = await Promise.all([startReaper({ database, messaging, storage }), startReaper({ database, messaging, storage })]);
    try {
      const tenant = await createTenant(db);
      const chunks = await Promise.all(
        [...Array(6).keys()].map(() => createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -10 * MINUTE), chunk: { status: "running", attempt: 1, startedAt: later(t0, -5 * MINUTE), heartbeatAt: later(t0, -2 * MINUTE) } })),
      );
      const dials = await Promise.all([...Array(3).keys()].map((n) => db.dial.create({ data: { tenantId: tenant.id, toNumber: `+1555010${n}`, status: "placing", createdAt: later(t0, -2 * MINUTE) } })));

      const results = await Promise.all([a.sweepNow({ now: t0 }), b.sweepNow({ now: t0 }), a.sweepNow({ now: t0 }), b.sweepNow({ now: t0 })]);
      const applied = results.flatMap((r) => r.actions).filter((x) => x.outcome === "applied");
      const ids = [...chunks.map((c) => c.chunk.id), ...dials.map((d) => d.id)];
      for (const id of ids) expect(applied.filter((x) => x.entityId === id)).toHaveLength(1);
      expect(results.some((r) => r.skipped)).toBe(true);
      expect(await db.auditEntry.count({ where: { entityId: { in: ids } } })).toBe(ids.length);
      const redriven = await outboxEvents(db, messaging.topology, "chunkReady");
      expect(redriven).toHaveLength(chunks.length);
      expect(new Set(redriven.map((e) => e.chunkId)).size).toBe(chunks.length);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test("the worker's registry serves the reaper's metrics", async ({ reaper, database }) => {
    const t0 = new Date();
    const tenant = await createTenant(database.db);
    await database.db.dial.create({ data: { tenantId: tenant.id, toNumber: "+15550100", status: "placing", createdAt: later(t0, -2 * MINUTE) } });
    await database.db.deadLetter.create({ data: { stream: "S", consumer: "c", subject: "s", streamSequence: 1n, payload: new Uint8Array([1]), deliveryCount: 3, reason: "max_deliveries" } });
    await reaper.sweepNow({ now: t0 });
    const text = await (await fetch(`${reaper.opsUrl}/metrics`)).text();
    expect(text).toMatch(/callflow_reaper_actions_total\{kind="dial.fail",outcome="applied"[^}]*\} 1/);
    expect(text).toMatch(/callflow_reaper_stuck_entities\{stage="dial"[^}]*\} 1/);
    expect(text).toMatch(/callflow_reaper_sweep_duration_seconds_count\{[^}]*result="ok"[^}]*\} 1/);
    expect(text).toMatch(/callflow_dead_letters_unreplayed(\{[^}]*\})? 1/);
  });

  test("orphans listed after more than a batch of referenced old objects are still found and deleted", async ({ database, messaging, storage }) => {
    const { db } = database;
    const t0 = new Date();
    const reaper = await startReaper({ database, messaging, storage }, { CALLFLOW_REAPER_BATCH: "2" });
    try {
      const tenant = await createTenant(db);
      const { callId } = await createCallWithChunk(db, { tenantId: tenant.id, at: t0, chunk: { status: "queued" } });
      // Keys list in order: three referenced ones (calls 0000…) before the orphan (call ffff…).
      const referenced = [1, 2, 3].map((n) => `tenants/${tenant.id}/calls/00000000-0000-4000-8000-00000000000${n}/v1/chunks/00000-a.wav`);
      const orphanKey = `tenants/${tenant.id}/calls/ffffffff-ffff-4fff-bfff-ffffffffffff/v1/chunks/00000-a.wav`;
      for (const [n, key] of referenced.entries()) await db.chunk.create({ data: { tenantId: tenant.id, callId, index: n + 1, objectKey: key, status: "transcribed" } });
      for (const key of [...referenced, orphanKey]) await storage.store.putStream(key, Readable.from([Buffer.from("RIFF")]));

      const { actions } = await reaper.sweepNow({ now: later(t0, 25 * 60 * MINUTE) });
      expect(actions.filter((a) => a.entityType === "object").map((a) => [a.kind, a.entityId, a.outcome])).toEqual([["object.delete", orphanKey, "applied"]]);
      expect(await storage.store.head(orphanKey)).toBeNull();
      for (const key of referenced) expect(await storage.store.head(key)).not.toBeNull();
    } finally {
      await reaper.stop();
    }
  });

  test("a recorder call whose next chunk is still streaming in is neither finished nor has its upload aborted; a long-dead upload is aborted", async ({ reaper, database, messaging, storage }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const abandonedAt = later(t0, -2 * 60 * MINUTE);
    const open = async () => {
      const call = await db.call.create({ data: { tenantId: tenant.id, source: "recorder", status: "uploading", createdAt: abandonedAt }, select: { id: true } });
      await db.chunk.create({ data: { tenantId: tenant.id, callId: call.id, index: 0, objectKey: `tenants/${tenant.id}/calls/${call.id}/v1/chunks/00000-a.wav`, status: "transcribed", durationSeconds: 4, sizeBytes: 100n, createdAt: abandonedAt, updatedAt: abandonedAt } });
      return call.id;
    };
    const streaming = await open();
    const dead = await open();
    // s3rver cannot list multipart uploads; S3 and MinIO can, and this is what they would answer.
    const pending: PendingMultipartUpload[] = [
      { key: `tenants/${tenant.id}/calls/${streaming}/v1/chunks/00001-b.wav`, uploadId: "streaming", initiated: later(t0, -MINUTE) },
      { key: `tenants/${tenant.id}/calls/${dead}/v1/chunks/00001-c.wav`, uploadId: "dead", initiated: later(t0, -90 * MINUTE) },
    ];
    const aborted: string[] = [];
    const store: ObjectStore = {
      ...storage.store,
      async *listMultipartUploads(prefix = "") {
        yield* pending.filter((upload) => upload.key.startsWith(prefix));
      },
      abortMultipartUpload: async (_key, uploadId) => {
        aborted.push(uploadId);
      },
    };
    const { context } = reaper;
    const deps: SweeperDeps = {
      db: context.db,
      commit: (work) => commitWithEvents(context.db, context.topology, work, context.relay),
      publishNow: (ids) => context.relay.publishNow(ids),
      store,
      policy: reaperConfigFromEnv(reaperEnv({ database, messaging, storage })).policy,
    };

    const { actions } = await sweepNow(deps, { now: t0 });
    expect(actions.filter((a) => a.entityId === streaming)).toEqual([]);
    expect(await db.call.findUniqueOrThrow({ where: { id: streaming } })).toMatchObject({ status: "uploading" });
    expect(await db.call.findUniqueOrThrow({ where: { id: dead } })).toMatchObject({ status: "processing", expectedChunkCount: 1 });
    expect(aborted).toEqual(["dead"]);
    expect((await outboxEvents(db, messaging.topology, "callUploadFinished")).map((e) => e.callId)).toEqual([dead]);
  });
});

describe("a sweep that runs out of time", () => {
  test("stops acting before its lock can pass to another replica, and says so; the next sweep carries on", async ({ database, messaging, storage }) => {
    const { db } = database;
    const reaper = await startReaper({ database, messaging, storage }, { CALLFLOW_REAPER_SWEEP_TIMEOUT_MS: "4000" });
    try {
      const t0 = new Date();
      const tenant = await createTenant(db);
      const first = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -10 * MINUTE), chunk: { status: "queued" } });
      const second = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -9 * MINUTE), chunk: { status: "queued" } });
      const started = Date.now();
      // The first action is slow enough to spend the sweep's time (80% of the 4 s its lock is held).
      const beforeWrite = async ({ entityId }: { entityId: string }) => {
        if (entityId === first.chunk.id) await waitFor("the sweep's time to pass", () => Date.now() - started >= 3_300, { timeoutMs: 5_000, intervalMs: 20 });
      };
      const sweep = await reaper.sweepNow({ now: t0, beforeWrite });
      expect(sweep.actions.map((a) => [a.entityId, a.kind])).toEqual([]);
      expect(sweep.errors).toEqual([expect.objectContaining({ error: expect.stringContaining("CALLFLOW_REAPER_SWEEP_TIMEOUT_MS") })]);
      // The action under way when the time ran out committed, audited; the one after it did not start.
      expect(await db.chunk.findUniqueOrThrow({ where: { id: first.chunk.id } })).toMatchObject({ status: "queued", attempt: 1 });
      expect(await db.chunk.findUniqueOrThrow({ where: { id: second.chunk.id } })).toMatchObject({ status: "queued", attempt: 0 });
      expect((await auditOf(db, first.chunk.id)).map((e) => e.action)).toEqual(["chunk.redrive"]);

      const next = await reaper.sweepNow({ now: t0 });
      expect(next.actions.filter((a) => a.entityId === second.chunk.id).map((a) => a.kind)).toEqual(["chunk.redrive"]);
    } finally {
      await reaper.stop();
    }
  });
});

describe("outbox rows that can never be published", () => {
  test("do not keep newer stale rows from being republished", async ({ database, messaging, storage }) => {
    const { db } = database;
    const reaper = await startReaper({ database, messaging, storage }, { CALLFLOW_REAPER_BATCH: "2" });
    try {
      const t0 = new Date();
      // No stream takes this subject: every publish of these fails.
      for (let i = 0; i < 3; i += 1) {
        await db.outboxEvent.create({ data: { subject: `${messaging.namespace}.nowhere.${i}`, payload: new Uint8Array([1]), createdAt: later(t0, -30 * MINUTE), attempts: 5, lastError: "no stream" } });
      }
      const stale = await rawOutboxRow(db, messaging.topology, later(t0, -2 * MINUTE));
      const sweep = await reaper.sweepNow({ now: t0 });
      expect(sweep.actions.find((a) => a.entityId === stale.id)).toMatchObject({ kind: "outbox.republish", outcome: "applied" });
      expect((await db.outboxEvent.findUniqueOrThrow({ where: { id: stale.id } })).publishedAt).not.toBeNull();
    } finally {
      await reaper.stop();
    }
  });
});
