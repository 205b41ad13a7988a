import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { storageConfigFromEnv } from "./config.ts";
import { EMBEDDED_S3_CREDENTIALS } from "./embedded-s3.ts";
import { createObjectStore } from "./object-store.ts";
import { openStorage } from "./open-storage.ts";
import { createS3Client } from "./s3-client.ts";
import { uniqueBucketName } from "./testing/store-fixture.ts";
import { readAll } from "./testing/streams.ts";

describe("openStorage", () => {
  it("starts an embedded server when no endpoint is configured and stops it on close", async () => {
    const bucket = uniqueBucketName();
    const storage = await openStorage(storageConfigFromEnv({ CALLFLOW_S3_BUCKET: bucket }));
    const endpoint = storage.endpoint ?? "";
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    await storage.store.putStream("hello.txt", Readable.from([Buffer.from("hello")]));
    const download = await storage.store.getStream("hello.txt");
    expect((await readAll(download.body)).toString()).toBe("hello");

    await storage.close();

    const client = createS3Client({ endpoint, region: "us-east-1", credentials: EMBEDDED_S3_CREDENTIALS, maxAttempts: 1 });
    try {
      await expect(createObjectStore({ client, bucket }).head("hello.txt")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      client.destroy();
    }
  });
});
