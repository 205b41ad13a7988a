import { randomBytes } from "node:crypto";
import { test } from "vitest";
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3 } from "../embedded-s3.ts";
import { createObjectStore } from "../object-store.ts";
import { createS3Client, type S3Connection } from "../s3-client.ts";

/** A bucket name no other test uses (s3rver wants 3–63 characters). */
export const uniqueBucketName = (): string => `t-${randomBytes(8).toString("hex")}`;

/** One embedded s3rver per test file; each test gets a store over a bucket of its own. */
export const storageTest = test
  .extend("s3", { scope: "file" }, async ({}, { onCleanup }) => {
    const s3 = await startEmbeddedS3({ bucket: "fixture-default" });
    onCleanup(() => s3.close());
    return s3;
  })
  .extend("connection", ({ s3 }): S3Connection => ({
    endpoint: s3.endpoint,
    region: "us-east-1",
    credentials: EMBEDDED_S3_CREDENTIALS,
  }))
  .extend("store", async ({ s3, connection }, { onCleanup }) => {
    const client = createS3Client(connection);
    onCleanup(() => client.destroy());
    const store = createObjectStore({
      client,
      bucket: uniqueBucketName(),
      endpoint: s3.endpoint,
      listingApi: s3.listingApi,
    });
    await store.ensureBucket();
    return store;
  });
