import { describe, expect, test } from "./support/ingest-fixture.ts";

const MINUTE = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms);
// Response bodies as the tests read them; the routes' zod schemas are what guarantee their shape.
type Json = { items: Record<string, unknown>[]; actions: { kind: string; entityId: string }[] } & Record<string, unknown>;
const json = async (response: Response): Promise<Json> => (await response.json()) as Json;

describe("admin reaper endpoints", () => {
  test("with no transcription worker, operator sweeps re-drive a queued chunk N times, then the transcript answers the terminal error instead of 202", async ({ ingest }) => {
    const { db } = ingest;
    const admin = await ingest.createTenant("operators", ["admin"]);
    const { tenantId } = ingest.tenant;
    const at = ago(20 * MINUTE);
    const call = await db.call.create({ data: { tenantId, source: "upload", status: "processing", uploadFinishedAt: at, expectedChunkCount: 1, createdAt: at }, select: { id: true } });
    await db.stageRun.create({ data: { tenantId, callId: call.id, stage: "transcription", status: "queued", createdAt: at, updatedAt: at } });
    const chunk = await db.chunk.create({ data: { tenantId, callId: call.id, index: 0, objectKey: `tenants/${tenantId}/calls/${call.id}/v1/chunks/0.wav`, status: "queued", createdAt: at, updatedAt: at } });

    expect((await ingest.api("/v1/admin/stuck")).status).toBe(403);
    const stuck = await ingest.api("/v1/admin/stuck?stage=transcription", { key: admin.key });
    expect(stuck.status).toBe(200);
    expect((await json(stuck)).items).toEqual([expect.objectContaining({ entityType: "chunk", entityId: chunk.id, status: "queued", reason: "queued_unclaimed" })]);
    const young = await ingest.api("/v1/admin/stuck?stage=transcription&olderThan=3600", { key: admin.key });
    expect((await json(young)).items).toEqual([]);
    expect((await json(await ingest.api("/v1/admin/stuck?stage=merge", { key: admin.key }))).items).toEqual([]);

    const sweep = (body: unknown) => ingest.api("/v1/admin/reaper/sweep", { key: admin.key, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const dry = await sweep({ dryRun: true });
    expect(dry.status).toBe(200);
    const dryBody = await dry.json();
    expect(dryBody).toMatchObject({ dryRun: true, actions: [expect.objectContaining({ kind: "chunk.redrive", entityId: chunk.id, outcome: "dry_run" })] });
    expect(await db.chunk.findUniqueOrThrow({ where: { id: chunk.id } })).toMatchObject({ status: "queued", attempt: 0 });

    const kinds: string[] = [];
    // The default budget: three attempts (two re-drives), then the terminal answer.
    for (let n = 0; n < 3; n += 1) {
      // Each re-drive restarts the queued deadline; age the row past it instead of waiting.
      await db.$executeRaw`UPDATE chunks SET updated_at = ${ago(11 * MINUTE)} WHERE id = ${chunk.id}::uuid`;
      const response = await sweep({});
      expect(response.status).toBe(200);
      kinds.push(...(await json(response)).actions.filter((a) => a.entityId === chunk.id).map((a) => a.kind));
    }
    expect(kinds).toEqual(["chunk.redrive", "chunk.redrive", "chunk.fail"]);

    const transcript = await ingest.api(`/v1/calls/${call.id}/transcript`);
    expect(transcript.status).not.toBe(202);
    expect(transcript.status).toBeGreaterThanOrEqual(400);
    expect(await transcript.json()).toMatchObject({ error: { code: "worker_not_processing_queue" } });

    const audit = await json(await ingest.api(`/v1/admin/audit?entityId=${chunk.id}`, { key: admin.key }));
    // The oldest entry is the dry run's: it must say so, or the log shows three re-drives where two happened.
    expect(audit.items.map((e) => [e.action, e.actor, e.dryRun])).toEqual([
      ["chunk.fail", `admin:${admin.keyId}`, false],
      ["chunk.redrive", `admin:${admin.keyId}`, false],
      ["chunk.redrive", `admin:${admin.keyId}`, false],
      ["chunk.redrive", `admin:${admin.keyId}`, true],
    ]);
    expect(audit.items.at(-1)).toMatchObject({ sweepId: (dryBody as { sweepId: string }).sweepId });
  });

  test("a sweep asked for while another holds the sweep lock answers 409", async ({ ingest }) => {
    const admin = await ingest.createTenant("operators", ["admin"]);
    await ingest.db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext('callflow.reaper.sweep'))::text AS locked`;
      const response = await ingest.api("/v1/admin/reaper/sweep", { key: admin.key, method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(response.status).toBe(409);
      expect(await response.json()).toMatchObject({ error: { code: "sweep_in_progress" } });
    });
  });
});
