import { waitFor } from "@callflow/testkit";
import { makeAudio } from "./support/audio.ts";
import { describe, expect, test, type IngestUnderTest } from "./support/ingest-fixture.ts";

const sendChunk = (ingest: IngestUnderTest, callId: string, index: number, body: Buffer, key?: string) =>
  ingest.api(`/v1/calls/${callId}/chunks?index=${index}`, { method: "POST", body, headers: { "content-type": "audio/ogg" }, ...(key ? { key } : {}) });

const json = async <T = Record<string, unknown>>(response: Response) => (await response.json()) as T;

describe("recorder chunks", () => {
  test("stores chunks idempotently by index, in order, and finishes the upload once", async ({ ingest, storage }) => {
    const opened = await ingest.api("/v1/calls/recorder", { method: "POST", body: JSON.stringify({ failurePolicy: "partial" }), headers: { "content-type": "application/json" } });
    expect(opened.status).toBe(201);
    const { id, status } = await json<{ id: string; status: string }>(opened);
    expect(status).toBe("uploading");

    const audio = [await makeAudio("ogg", 2, 300), await makeAudio("ogg", 3, 500), await makeAudio("ogg", 1, 700)];
    const first = await sendChunk(ingest, id, 0, audio[0]!);
    expect(first.status).toBe(202);
    expect(await json(first)).toMatchObject({ callId: id, index: 0, status: "queued", startOffsetSeconds: 0 });

    expect((await sendChunk(ingest, id, 2, audio[2]!)).status).toBe(409); // chunk 1 is missing and no offset given

    const second = await json<{ chunkId: string; startOffsetSeconds: number }>(await sendChunk(ingest, id, 1, audio[1]!));
    expect(second.startOffsetSeconds).toBeGreaterThan(1.9);
    const repeated = await sendChunk(ingest, id, 1, audio[1]!);
    expect(repeated.status).toBe(200);
    expect((await json<{ chunkId: string }>(repeated)).chunkId).toBe(second.chunkId);
    expect((await sendChunk(ingest, id, 2, audio[2]!)).status).toBe(202);

    expect((await sendChunk(ingest, id, 3, audio[2]!, ingest.otherTenant.key)).status).toBe(404);

    const finished = await ingest.api(`/v1/calls/${id}/finish`, { method: "POST" });
    expect(finished.status).toBe(202);
    expect(await json(finished)).toMatchObject({ id, status: "processing", chunkCount: 3 });
    expect((await ingest.api(`/v1/calls/${id}/finish`, { method: "POST", body: JSON.stringify({ chunkCount: 3 }), headers: { "content-type": "application/json" } })).status).toBe(202);
    const late = await sendChunk(ingest, id, 3, audio[2]!);
    expect(late.status).toBe(409);
    expect((await json<{ error: { code: string } }>(late)).error.code).toBe("upload_finished");

    const call = await ingest.db.call.findUniqueOrThrow({ where: { id }, include: { chunks: { orderBy: { index: "asc" } }, stages: true } });
    expect(call).toMatchObject({ status: "processing", expectedChunkCount: 3, failurePolicy: "partial" });
    expect(call.durationSeconds).toBeGreaterThan(5.9);
    expect(call.chunks.map((chunk) => chunk.index)).toEqual([0, 1, 2]);
    expect(call.stages.map((stage) => [stage.stage, stage.status])).toEqual([["transcription", "queued"]]);

    const chunkEvents = await waitFor("3 chunk events", async () => {
      const events = await ingest.events("chunkReady");
      return events.length >= 3 ? events : undefined;
    });
    expect(chunkEvents.map((event) => event.chunkIndex).sort()).toEqual([0, 1, 2]);
    expect(await waitFor("one upload-finished event", () => ingest.events("callUploadFinished").then((events) => (events.length ? events : undefined)))).toMatchObject([
      { callId: id, chunkCount: 3 },
    ]);
    // The repeated chunk 1 left no second object behind.
    const objects: string[] = [];
    for await (const object of storage.store.list(`tenants/${ingest.tenant.tenantId}/calls/${id}/`)) objects.push(object.key);
    expect(objects.sort()).toEqual(call.chunks.map((chunk) => chunk.objectKey).sort());
  });

  test("refuses to finish while chunks are missing, and chunks for a whole-file call", async ({ ingest }) => {
    const { id } = await json<{ id: string }>(await ingest.api("/v1/calls/recorder", { method: "POST" }));
    const empty = await ingest.api(`/v1/calls/${id}/finish`, { method: "POST" });
    expect(empty.status).toBe(400);
    expect((await sendChunk(ingest, id, 0, await makeAudio("ogg"))).status).toBe(202);
    const missing = await ingest.api(`/v1/calls/${id}/finish`, { method: "POST", body: JSON.stringify({ chunkCount: 3 }), headers: { "content-type": "application/json" } });
    expect(missing.status).toBe(409);
    expect(await json(missing)).toEqual({ error: { code: "missing_chunks", message: "chunks 1, 2 have not been uploaded" } });
    expect((await ingest.db.call.findUniqueOrThrow({ where: { id } })).status).toBe("uploading");

    const whole = await json<{ id: string }>(await ingest.api("/v1/calls", { method: "POST", body: await makeAudio("wav") }));
    expect((await sendChunk(ingest, whole.id, 1, await makeAudio("ogg"))).status).toBe(409);
  });
});
