import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from "./embedded-s3.ts";
import { createObjectStore, type ObjectStore } from "./object-store.ts";
import { createS3Client } from "./s3-client.ts";
import { pseudoRandomStream } from "./testing/pseudo-random-stream.ts";

const withDeadline = <T>(work: Promise<T>, ms: number, failure: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${failure} (over ${ms} ms)`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
};

const withStore = async <T>(s3: EmbeddedS3, bucket: string, use: (store: ObjectStore) => Promise<T>): Promise<T> => {
  const client = createS3Client({ endpoint: s3.endpoint, region: "us-east-1", credentials: EMBEDDED_S3_CREDENTIALS });
  try {
    return await use(createObjectStore({ client, bucket, listingApi: s3.listingApi }));
  } finally {
    client.destroy();
  }
};

describe("startEmbeddedS3", () => {
  it("serves its bucket on loopback and removes the temporary directory it made on close", async () => {
    const s3 = await startEmbeddedS3({ bucket: "local-audio" });
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(existsSync(s3.directory)).toBe(true);

    await withStore(s3, "local-audio", async (store) => {
      await store.putStream("a.txt", Readable.from([Buffer.from("a")]));
      expect(await store.head("a.txt")).toMatchObject({ size: 1 });
    });
    await s3.close();

    expect(existsSync(s3.directory)).toBe(false);
  });

  it("keeps objects across restarts in a directory it was given, and leaves that directory in place", async () => {
    const directory = await mkdtemp(join(tmpdir(), "callflow-s3-kept-"));
    try {
      const first = await startEmbeddedS3({ bucket: "local-audio", directory });
      await withStore(first, "local-audio", (store) => store.putStream("kept.txt", Readable.from([Buffer.from("kept")])));
      await first.close();

      const second = await startEmbeddedS3({ bucket: "local-audio", directory });
      try {
        await withStore(second, "local-audio", async (store) => {
          expect(await store.head("kept.txt")).toMatchObject({ size: 4 });
        });
      } finally {
        await second.close();
      }
      expect(existsSync(directory)).toBe(true);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("closes promptly while a client is in the middle of a download", async () => {
    const s3 = await startEmbeddedS3({ bucket: "local-audio" });
    await withStore(s3, "local-audio", async (store) => {
      await store.putStream("big.bin", pseudoRandomStream("big", 32 * 1024 * 1024));
      const download = await store.getStream("big.bin");

      // Nobody reads the body, so the response can never finish on its own.
      await withDeadline(s3.close(), 5_000, "close() waited for an unfinished download");
      download.body.destroy();
    });
  });

  it("fails to start with the port's error when the port is taken", async () => {
    const first = await startEmbeddedS3({ bucket: "local-audio" });
    try {
      const port = Number(new URL(first.endpoint).port);
      await expect(startEmbeddedS3({ bucket: "local-audio", port })).rejects.toMatchObject({ code: "EADDRINUSE" });
    } finally {
      await first.close();
    }
  });
});
