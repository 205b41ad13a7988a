import { request as httpRequest } from "node:http";
import { Readable } from "node:stream";
import { waitFor } from "@callflow/testkit";
import { makeAudio } from "./support/audio.ts";
import { describe, expect, test, type IngestUnderTest } from "./support/ingest-fixture.ts";

const objectsIn = async (storage: { store: { list(prefix: string): AsyncIterable<{ key: string }> } }) => {
  const keys: string[] = [];
  for await (const object of storage.store.list("")) keys.push(object.key);
  return keys;
};

const upload = (ingest: IngestUnderTest, body: RequestInit["body"], headers: Record<string, string> = {}) =>
  ingest.api("/v1/calls", { method: "POST", body, headers: { "content-type": "application/octet-stream", ...headers } });

describe("POST /v1/calls", () => {
  test("accepts WAV, MP3 and OGG: a processing call, one queued chunk, a queued stage and exactly one chunk event each", async ({ ingest, storage }) => {
    const ids: string[] = [];
    for (const format of ["wav", "mp3", "ogg"] as const) {
      // The declared type is wrong on purpose: the content decides.
      const response = await upload(ingest, await makeAudio(format, 2), { "content-type": "text/plain" });
      expect(response.status, format).toBe(202);
      const body = (await response.json()) as { id: string; status: string };
      expect(body.status).toBe("processing");
      expect(response.headers.get("location")).toBe(`/v1/calls/${body.id}`);
      ids.push(body.id);

      const call = await ingest.db.call.findUniqueOrThrow({ where: { id: body.id }, include: { chunks: true, stages: true } });
      expect(call).toMatchObject({ tenantId: ingest.tenant.tenantId, status: "processing", source: "upload", expectedChunkCount: 1 });
      expect(call.durationSeconds).toBeGreaterThan(1.9);
      expect(call.uploadFinishedAt).not.toBeNull();
      expect(call.chunks).toHaveLength(1);
      expect(call.chunks[0]).toMatchObject({ index: 0, status: "queued", tenantId: ingest.tenant.tenantId });
      expect(call.stages.map((stage) => [stage.stage, stage.status])).toEqual([["transcription", "queued"]]);
      const head = await storage.store.head(call.chunks[0]!.objectKey);
      expect(head?.size).toBe(Number(call.sizeBytes));
    }

    const chunkEvents = await waitFor("three chunk events", async () => {
      const events = await ingest.events("chunkReady");
      return events.length >= 3 ? events : undefined;
    });
    expect(chunkEvents.map((event) => event.callId).sort()).toEqual([...ids].sort());
    expect((await ingest.events("callUploadFinished")).map((event) => [event.callId, event.chunkCount]).sort()).toEqual(ids.map((id) => [id, 1]).sort());
    // Every outbox row is published, none twice.
    await waitFor("outbox drained", async () => (await ingest.db.outboxEvent.count({ where: { publishedAt: null } })) === 0);
    expect(await ingest.db.outboxEvent.count()).toBe(6);
  });

  test("accepts the file part of a multipart form with its metadata", async ({ ingest }) => {
    const form = new FormData();
    form.append("metadata", JSON.stringify({ agent: "a-17" }));
    form.append("file", new Blob([await makeAudio("flac")]), "call.flac");
    const response = await ingest.api("/v1/calls?failurePolicy=partial", { method: "POST", body: form });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const call = await ingest.db.call.findUniqueOrThrow({ where: { id } });
    expect(call).toMatchObject({ contentType: "audio/flac", failurePolicy: "partial", metadata: { agent: "a-17" } });
  });

  test("rejects a renamed text file (415), an empty body (400) and unreadable audio (400), leaving no call and no object", async ({ ingest, storage }) => {
    const text = await upload(ingest, "This is a meeting note, not a recording.\n".repeat(50), { "content-type": "audio/wav" });
    expect(text.status).toBe(415);
    expect(await text.json()).toEqual({ error: { code: "unsupported_audio", message: expect.any(String) } });

    const empty = await upload(ingest, "");
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { code: string } }).error.code).toBe("empty_body");

    // The right magic bytes, then noise: the sniffer lets it through, ffprobe does not.
    const wav = await makeAudio("wav");
    const garbage = Buffer.concat([wav.subarray(0, 12), Buffer.alloc(4000, 0x5a)]);
    const unreadable = await upload(ingest, garbage);
    expect(unreadable.status).toBe(400);
    expect(((await unreadable.json()) as { error: { code: string } }).error.code).toBe("unreadable_audio");

    expect(await ingest.db.call.count()).toBe(0);
    expect(await ingest.db.outboxEvent.count()).toBe(0);
    expect(await objectsIn(storage)).toEqual([]);
  });

  test("answers 401 without a key, with an unknown key and with a revoked key", async ({ ingest }) => {
    const wav = await makeAudio("wav");
    expect((await ingest.api("/v1/calls", { method: "POST", body: wav, key: null })).status).toBe(401);
    const unknown = await ingest.api("/v1/calls", { method: "POST", body: wav, key: "cf_not-a-key" });
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
    await ingest.db.apiKey.update({ where: { id: ingest.tenant.keyId }, data: { revokedAt: new Date() } });
    // The test configuration trusts a key lookup for 1 ms: the revocation shows once that has passed.
    await waitFor("the revoked key refused", async () => (await ingest.api("/v1/calls", { method: "GET" })).status === 401, { timeoutMs: 5_000 });
  });
});

describe("POST /v1/calls with a 1 MiB limit", () => {
  test.override({ ingestEnv: { CALLFLOW_INGEST_MAX_UPLOAD_BYTES: String(1024 * 1024) } });

  test("rejects a declared oversize at once and stops reading an undeclared one early (413), leaving nothing", async ({ ingest, storage }) => {
    const declared = await upload(ingest, Buffer.alloc(2 * 1024 * 1024, 1), {});
    expect(declared.status).toBe(413);

    // 64 MiB of WAV, chunked (no Content-Length): the server must answer long before it has all of it.
    const total = 64 * 1024 * 1024;
    const header = (await makeAudio("wav")).subarray(0, 44);
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced >= total) return this.push(null);
        const chunk = produced === 0 ? Buffer.concat([header, Buffer.alloc(64 * 1024 - 44)]) : Buffer.alloc(64 * 1024);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const url = new URL("/v1/calls", ingest.url);
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(url, { method: "POST", headers: { authorization: `Bearer ${ingest.tenant.key}`, "content-type": "audio/wav", "transfer-encoding": "chunked" } });
      request.on("response", (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on("error", (error) => (produced < total ? undefined : reject(error)));
      source.pipe(request);
    });
    source.unpipe();
    source.destroy();
    expect(status).toBe(413);
    expect(produced).toBeLessThan(total / 4);

    expect(await ingest.db.call.count()).toBe(0);
    await waitFor("no object left", async () => (await objectsIn(storage)).length === 0);
  });
});
