import { Readable } from "node:stream";
import { describe, expect } from "vitest";
import { BucketNotFoundError, ContentLengthMismatchError, ObjectNotFoundError, RangeNotSatisfiableError } from "./errors.ts";
import { createObjectStore } from "./object-store.ts";
import { createS3Client } from "./s3-client.ts";
import { pseudoRandomStream } from "./testing/pseudo-random-stream.ts";
import { storageTest as it, uniqueBucketName } from "./testing/store-fixture.ts";
import { collect, fingerprint, readAll } from "./testing/streams.ts";

const MiB = 1024 * 1024;

describe("ObjectStore on s3rver", () => {
  it("stores an object and returns the same bytes, size, type and etag from put, head, get and list", async ({ store }) => {
    const bytes = Buffer.from("RIFF....WAVEfmt a short recording");
    const stored = await store.putStream("calls/c1/original.wav", Readable.from([bytes]), {
      contentType: "audio/wav",
      contentLength: bytes.length,
    });
    expect(stored).toEqual({ key: "calls/c1/original.wav", size: bytes.length, etag: expect.stringMatching(/^[0-9a-f]{32}$/) });

    const head = await store.head("calls/c1/original.wav");
    expect(head).toMatchObject({ size: bytes.length, contentType: "audio/wav", etag: stored.etag });

    const download = await store.getStream("calls/c1/original.wav");
    expect(download).toMatchObject({ contentLength: bytes.length, contentType: "audio/wav", etag: stored.etag });
    expect(await readAll(download.body)).toEqual(bytes);

    const listed = await collect(store.list("calls/c1/"));
    expect(listed).toEqual([{ key: "calls/c1/original.wav", size: bytes.length, lastModified: expect.any(Date), etag: stored.etag }]);

    await store.delete("calls/c1/original.wav");
    expect(await store.head("calls/c1/original.wav")).toBeNull();
    expect(await collect(store.list("calls/c1/"))).toEqual([]);
  });

  it("stores an empty stream as an empty object", async ({ store }) => {
    const stored = await store.putStream("calls/silent/original.wav", Readable.from([]), { contentLength: 0 });

    expect(stored.size).toBe(0);
    expect(await store.head("calls/silent/original.wav")).toMatchObject({ size: 0 });
    expect(await readAll((await store.getStream("calls/silent/original.wav")).body)).toEqual(Buffer.alloc(0));
  });

  it("serves the stored bytes to a plain HTTP client through a presigned URL", async ({ store }) => {
    const bytes = await readAll(pseudoRandomStream("presigned", 300_000));
    await store.putStream("recordings/r1.mp3", Readable.from([bytes]), { contentType: "audio/mpeg" });

    const url = await store.presignGet("recordings/r1.mp3", 60);
    const response = await fetch(url);

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("audio/mpeg");
    expect(fingerprint(Buffer.from(await response.arrayBuffer()))).toEqual(fingerprint(bytes));
  });

  it("refuses a presigned URL once it has expired", async ({ connection, s3 }) => {
    const client = createS3Client(connection);
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    const store = createObjectStore({ client, bucket: uniqueBucketName(), endpoint: s3.endpoint, now: () => twoMinutesAgo });
    try {
      await store.ensureBucket();
      await store.putStream("recordings/r2.mp3", Readable.from([Buffer.from("audio")]));

      const expired = await store.presignGet("recordings/r2.mp3", 60);
      const current = await createObjectStore({ client, bucket: store.bucket }).presignGet("recordings/r2.mp3", 60);

      expect((await fetch(expired)).status).toBe(403);
      expect((await fetch(current)).status).toBe(200);
    } finally {
      client.destroy();
    }
  });

  it("lists every object under a prefix across several pages and nothing outside it", async ({ store }) => {
    const inside = ["calls/c2/chunks/000", "calls/c2/chunks/001", "calls/c2/chunks/002", "calls/c2/chunks/003", "calls/c2/chunks/004"];
    const outside = ["calls/c20/chunks/000", "calls/c3/chunks/000"];
    for (const key of [...inside, ...outside]) await store.putStream(key, Readable.from([Buffer.from(key)]));

    const listed = await collect(store.list("calls/c2/", { pageSize: 2 }));

    expect(listed.map((object) => object.key)).toEqual(inside);
    expect(listed.every((object) => object.size === "calls/c2/chunks/000".length)).toBe(true);
  });

  it("lists a prefix with ListObjectsV2 when it fits in one page", async ({ connection, s3 }) => {
    const client = createS3Client(connection);
    const store = createObjectStore({ client, bucket: uniqueBucketName(), endpoint: s3.endpoint, listingApi: "ListObjectsV2" });
    try {
      await store.ensureBucket();
      for (const key of ["p/1", "p/2", "q/1"]) await store.putStream(key, Readable.from([Buffer.from(key)]));

      expect((await collect(store.list("p/"))).map((object) => object.key)).toEqual(["p/1", "p/2"]);
      // Canary for the reason the embedded store pages with V1: drop listingApi when this starts passing.
      await expect(collect(store.list("", { pageSize: 2 }))).rejects.toMatchObject({ name: "InternalError" });
    } finally {
      client.destroy();
    }
  });

  it("returns exactly the requested bytes for closed, open-ended and single-byte ranges", async ({ store }) => {
    const bytes = await readAll(pseudoRandomStream("range", 3 * MiB + 17));
    await store.putStream("calls/c4/merged.wav", pseudoRandomStream("range", bytes.length));

    const closed = await store.getStream("calls/c4/merged.wav", { range: { start: 1_000_003, end: 2_500_000 } });
    expect(closed.contentLength).toBe(1_499_998);
    expect(closed.contentRange).toBe(`bytes 1000003-2500000/${bytes.length}`);
    expect(fingerprint(await readAll(closed.body))).toEqual(fingerprint(bytes.subarray(1_000_003, 2_500_001)));

    const openEnded = await store.getStream("calls/c4/merged.wav", { range: { start: bytes.length - 100 } });
    expect(fingerprint(await readAll(openEnded.body))).toEqual(fingerprint(bytes.subarray(bytes.length - 100)));

    const single = await store.getStream("calls/c4/merged.wav", { range: { start: 0, end: 0 } });
    expect(single.contentLength).toBe(1);
    expect(await readAll(single.body)).toEqual(bytes.subarray(0, 1));
  });

  it("reports a range that starts past the end as RangeNotSatisfiableError", async ({ store }) => {
    await store.putStream("short", Readable.from([Buffer.from("0123456789")]));

    await expect(store.getStream("short", { range: { start: 10 } })).rejects.toBeInstanceOf(RangeNotSatisfiableError);
  });

  it("reports a missing key as ObjectNotFoundError from getStream and as null from head", async ({ store }) => {
    const missing = store.getStream("calls/never-uploaded.wav");

    await expect(missing).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(missing).rejects.toMatchObject({ code: "object_not_found", key: "calls/never-uploaded.wav", bucket: store.bucket });
    expect(await store.head("calls/never-uploaded.wav")).toBeNull();
  });

  it("reports a bucket that was never created as BucketNotFoundError", async ({ connection, s3 }) => {
    const client = createS3Client(connection);
    const store = createObjectStore({ client, bucket: uniqueBucketName(), endpoint: s3.endpoint });
    try {
      await expect(store.getStream("any")).rejects.toBeInstanceOf(BucketNotFoundError);
      await expect(collect(store.list(""))).rejects.toBeInstanceOf(BucketNotFoundError);
    } finally {
      client.destroy();
    }
  });

  it("creates its bucket once and tolerates ensureBucket being called again", async ({ store }) => {
    await store.putStream("kept", Readable.from([Buffer.from("still here")]));

    await store.ensureBucket();

    expect(await store.head("kept")).not.toBeNull();
  });

  it("deletes many keys in one call, including keys that do not exist", async ({ store }) => {
    const keys = ["a/1", "a/2", "a/3", "b/1"];
    for (const key of keys) await store.putStream(key, Readable.from([Buffer.from(key)]));

    await store.deleteMany(["a/1", "a/2", "a/3", "a/never"]);

    expect((await collect(store.list(""))).map((object) => object.key)).toEqual(["b/1"]);
  });

  it("a deleted key that never existed is not an error", async ({ store }) => {
    await expect(store.delete("nothing/here")).resolves.toBeUndefined();
  });

  it("rejects with the source's own error and stores nothing when the stream fails after two parts", async ({ store }) => {
    const failure = new Error("recorder disconnected");
    const source = Readable.from(
      (async function* () {
        yield* pseudoRandomStream("failing", 20 * MiB);
        throw failure;
      })(),
    );

    await expect(store.putStream("calls/c5/original.wav", source)).rejects.toBe(failure);
    expect(await store.head("calls/c5/original.wav")).toBeNull();
    expect(source.destroyed).toBe(true);
  });

  it("fails an upload whose stream is shorter than its declared contentLength and stores nothing", async ({ store }) => {
    const upload = store.putStream("calls/c6/original.wav", pseudoRandomStream("short", 10 * MiB), { contentLength: 12 * MiB });

    await expect(upload).rejects.toBeInstanceOf(ContentLengthMismatchError);
    expect(await store.head("calls/c6/original.wav")).toBeNull();
  });

  it("fails an upload whose stream is longer than its declared contentLength and stores nothing", async ({ store }) => {
    const upload = store.putStream("calls/c7/original.wav", pseudoRandomStream("long", 1000), { contentLength: 999 });

    await expect(upload).rejects.toMatchObject({ code: "content_length_mismatch", declaredBytes: 999 });
    expect(await store.head("calls/c7/original.wav")).toBeNull();
  });
});
