import { CreateMultipartUploadCommand, S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { describe, expect } from "vitest";
import { OperationNotSupportedError } from "./errors.ts";
import { createS3Client } from "./s3-client.ts";
import { storageTest as it } from "./testing/store-fixture.ts";
import { collect } from "./testing/streams.ts";

const startAbandonedUpload = async (client: S3Client, bucket: string, key: string): Promise<string> => {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: Buffer.alloc(1024) }));
  return UploadId ?? "";
};

// s3rver answers GET ?uploads with 501 NotImplemented and DELETE ?uploadId with 405
// MethodNotAllowed. The reaper's orphan sweep must see that as a typed, explainable refusal
// rather than an empty list (which would read as "nothing to clean").
describe("multipart upload housekeeping on s3rver", () => {
  it("refuses to list pending multipart uploads with OperationNotSupportedError", async ({ store, connection, s3 }) => {
    const client = createS3Client(connection);
    try {
      await startAbandonedUpload(client, store.bucket, "calls/c8/original.wav");

      const listing = collect(store.listMultipartUploads("calls/"));

      await expect(listing).rejects.toBeInstanceOf(OperationNotSupportedError);
      await expect(listing).rejects.toMatchObject({ code: "operation_not_supported", operation: "ListMultipartUploads" });
      await expect(listing).rejects.toThrow(`the object store at ${s3.endpoint} does not implement ListMultipartUploads`);
    } finally {
      client.destroy();
    }
  });

  it("refuses to abort a multipart upload with OperationNotSupportedError", async ({ store, connection }) => {
    const client = createS3Client(connection);
    try {
      const uploadId = await startAbandonedUpload(client, store.bucket, "calls/c9/original.wav");

      await expect(store.abortMultipartUpload("calls/c9/original.wav", uploadId)).rejects.toMatchObject({
        code: "operation_not_supported",
        operation: "AbortMultipartUpload",
      });
    } finally {
      client.destroy();
    }
  });
});
