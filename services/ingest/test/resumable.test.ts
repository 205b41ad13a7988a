import { readdir } from "node:fs/promises";
import * as tus from "tus-js-client";
import { waitFor } from "@callflow/testkit";
import { makeAudio } from "./support/audio.ts";
import { describe, expect, test, type IngestUnderTest } from "./support/ingest-fixture.ts";

const CHUNK = 256 * 1024;

const tusUpload = (ingest: IngestUnderTest, file: Buffer, options: Partial<tus.UploadOptions> = {}) =>
  new tus.Upload(file, {
    endpoint: `${ingest.url}/v1/uploads`,
    chunkSize: CHUNK,
    retryDelays: [],
    storeFingerprintForResuming: false,
    headers: { authorization: `Bearer ${ingest.tenant.key}` },
    metadata: { filename: "call.wav", failurePolicy: "partial" },
    ...options,
  });

const streamToBuffer = async (stream: AsyncIterable<Buffer>) => {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
};

describe("tus resumable uploads", () => {
  test("an upload interrupted halfway and resumed produces a byte-identical object and one call", async ({ ingest, storage }) => {
    const file = await makeAudio("wav", 100); // ~3.2 MB: 13 PATCHes of 256 KiB
    let uploadUrl: string | null = null;

    // First attempt: abort once half of it is on the server.
    await new Promise<void>((resolve, reject) => {
      const upload = tusUpload(ingest, file, {
        onChunkComplete: (_size, accepted) => {
          if (accepted >= file.length / 2) {
            uploadUrl = upload.url;
            void upload.abort().then(resolve);
          }
        },
        onSuccess: () => reject(new Error("the first attempt should have been interrupted")),
        onError: reject,
      });
      upload.start();
    });
    expect(uploadUrl).toMatch(/\/v1\/uploads\/[0-9a-f-]{36}$/);
    const callId = uploadUrl!.split("/").at(-1)!;

    const head = await fetch(uploadUrl!, { method: "HEAD", headers: { authorization: `Bearer ${ingest.tenant.key}`, "tus-resumable": "1.0.0" } });
    const offset = Number(head.headers.get("upload-offset"));
    expect(offset).toBeGreaterThanOrEqual(file.length / 2);
    expect(offset).toBeLessThan(file.length);
    expect(await ingest.db.call.count()).toBe(0);

    // Another tenant cannot see or continue it.
    const foreign = await fetch(uploadUrl!, { method: "HEAD", headers: { authorization: `Bearer ${ingest.otherTenant.key}`, "tus-resumable": "1.0.0" } });
    expect(foreign.status).toBe(404);

    // Second attempt resumes from the server's offset.
    let firstResumedOffset: number | undefined;
    const finished = await new Promise<tus.Upload>((resolve, reject) => {
      const upload: tus.Upload = tusUpload(ingest, file, {
        uploadUrl,
        onChunkComplete: (size, accepted) => {
          firstResumedOffset ??= accepted - size;
        },
        onSuccess: () => resolve(upload),
        onError: reject,
      });
      upload.start();
    });
    expect(finished.url).toBe(uploadUrl);
    expect(firstResumedOffset).toBe(offset);

    const call = await ingest.db.call.findUniqueOrThrow({ where: { id: callId }, include: { chunks: true } });
    expect(call).toMatchObject({ tenantId: ingest.tenant.tenantId, source: "resumable", status: "processing", failurePolicy: "partial", sizeBytes: BigInt(file.length) });
    const stored = await streamToBuffer((await storage.store.getStream(call.chunks[0]!.objectKey)).body);
    expect(stored.equals(file)).toBe(true);
    expect(await readdir(ingest.tusDirectory)).toEqual([]);

    // Asking again after the end is answered from the call.
    const after = await fetch(uploadUrl!, { method: "HEAD", headers: { authorization: `Bearer ${ingest.tenant.key}`, "tus-resumable": "1.0.0" } });
    expect(after.headers.get("upload-offset")).toBe(String(file.length));
    const events = await waitFor("the chunk event", () => ingest.events("chunkReady").then((found) => (found.length ? found : undefined)));
    expect(events.map((event) => event.callId)).toEqual([callId]);
  });

  test("a completed upload that is not audio is rejected with 415 and leaves no call, object or staged file", async ({ ingest, storage }) => {
    const text = Buffer.from("minutes of the meeting\n".repeat(20_000));
    const error = await new Promise<Error>((resolve, reject) => {
      tusUpload(ingest, text, { onSuccess: () => reject(new Error("accepted a text file")), onError: resolve }).start();
    });
    expect(error.message).toMatch(/415/);
    expect(error.message).toContain("unsupported_audio");
    expect(await ingest.db.call.count()).toBe(0);
    const objects: string[] = [];
    for await (const object of storage.store.list("")) objects.push(object.key);
    expect(objects).toEqual([]);
    expect(await readdir(ingest.tusDirectory)).toEqual([]);
  });

  test("needs an API key", async ({ ingest }) => {
    const response = await fetch(`${ingest.url}/v1/uploads`, { method: "POST", headers: { "tus-resumable": "1.0.0", "upload-length": "100" } });
    expect(response.status).toBe(401);
  });
});
