import type { Readable } from "node:stream";
import type { BucketLocationConstraint, S3Client } from "@aws-sdk/client-s3";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { ByteRange } from "./byte-range.ts";
import { DeleteObjectsError, OperationNotSupportedError, type DeleteFailure } from "./errors.ts";
import { getStream, type ObjectDownload } from "./get-stream.ts";
import {
  listObjects,
  listPendingMultipartUploads,
  type ListedObject,
  type ListingApi,
  type ListOptions,
  type PendingMultipartUpload,
} from "./listing.ts";
import { DEFAULT_UPLOAD_TUNING, putStream, unquote, type PutOptions, type StoredObject, type UploadTuning } from "./put-stream.ts";
import { isMissing, isUnimplemented, s3ErrorCode, translateS3Error } from "./s3-errors.ts";

export type { ObjectDownload } from "./get-stream.ts";

export interface ObjectHead {
  key: string;
  size: number;
  contentType: string | undefined;
  etag: string;
  lastModified: Date | undefined;
}

/** The port every service uses for audio and artefacts; one bucket per store. */
export interface ObjectStore {
  readonly bucket: string;
  /** Creates the bucket if it does not exist; safe to call from several processes at once. */
  ensureBucket(): Promise<void>;
  /** Streams `body` up in parts of bounded size; never holds the whole object in memory. */
  putStream(key: string, body: Readable, options?: PutOptions): Promise<StoredObject>;
  /** Throws ObjectNotFoundError when the key does not exist. */
  getStream(key: string, options?: { range?: ByteRange }): Promise<ObjectDownload>;
  /** Null when the key does not exist. */
  head(key: string): Promise<ObjectHead | null>;
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
  /** Succeeds whether or not the key existed. */
  delete(key: string): Promise<void>;
  /** Throws DeleteObjectsError naming every key the server refused. */
  deleteMany(keys: readonly string[]): Promise<void>;
  list(prefix: string, options?: ListOptions): AsyncIterable<ListedObject>;
  /** Throws OperationNotSupportedError on servers without ListMultipartUploads (s3rver). */
  listMultipartUploads(prefix?: string): AsyncIterable<PendingMultipartUpload>;
  /** Succeeds if the upload is already gone; throws OperationNotSupportedError on s3rver. */
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
}

export interface ObjectStoreOptions {
  client: S3Client;
  bucket: string;
  /** Where the store is, for error messages (OperationNotSupportedError). */
  endpoint?: string;
  upload?: Partial<UploadTuning>;
  /** "ListObjects" (V1, marker paging) only for servers that cannot page V2: s3rver on Node >= 17. */
  listingApi?: ListingApi;
  /** The clock presigned URLs are dated by. */
  now?: () => Date;
}

const DELETE_BATCH = 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export const createObjectStore = (options: ObjectStoreOptions): ObjectStore => {
  const { client, bucket } = options;
  const endpoint = options.endpoint ?? "the configured S3 endpoint";
  const tuning: UploadTuning = { ...DEFAULT_UPLOAD_TUNING, ...options.upload };
  const listing = { client, bucket, endpoint, api: options.listingApi ?? "ListObjectsV2" };
  const now = options.now ?? (() => new Date());
  const rethrow = (key?: string) => (error: unknown) => {
    throw translateS3Error(error, key === undefined ? { bucket } : { bucket, key });
  };

  return {
    bucket,

    async ensureBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return;
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
      const region = await client.config.region();
      try {
        await client.send(
          new CreateBucketCommand({
            Bucket: bucket,
            // us-east-1 is the one region that rejects an explicit location constraint.
            ...(region === "us-east-1" ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
          }),
        );
      } catch (error) {
        const code = s3ErrorCode(error);
        // Another process created it between our HEAD and PUT.
        if (code !== "BucketAlreadyOwnedByYou" && code !== "BucketAlreadyExists") throw error;
      }
    },

    putStream: (key, body, putOptions) =>
      putStream({ client, bucket, tuning }, key, body, putOptions).catch(rethrow()),

    getStream: (key, getOptions = {}) => getStream({ client, bucket }, key, getOptions.range),

    async head(key) {
      try {
        const output = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return {
          key,
          size: output.ContentLength ?? 0,
          contentType: output.ContentType,
          etag: unquote(output.ETag ?? ""),
          lastModified: output.LastModified,
        };
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    },

    async presignGet(key, expiresInSeconds) {
      if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
        throw new RangeError(`expiresInSeconds must be an integer from 1 to ${MAX_PRESIGN_SECONDS}, got ${expiresInSeconds}`);
      }
      return await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: expiresInSeconds,
        signingDate: now(),
      });
    },

    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(rethrow());
    },

    async deleteMany(keys) {
      const failures: DeleteFailure[] = [];
      for (let offset = 0; offset < keys.length; offset += DELETE_BATCH) {
        const batch = keys.slice(offset, offset + DELETE_BATCH);
        const output = await client
          .send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
          )
          .catch(rethrow());
        for (const failed of output.Errors ?? []) {
          failures.push({ key: failed.Key ?? "", code: failed.Code ?? "Unknown", message: failed.Message ?? "" });
        }
      }
      if (failures.length > 0) throw new DeleteObjectsError(failures);
    },

    list: (prefix, listOptions) => listObjects(listing, prefix, listOptions),

    listMultipartUploads: (prefix) => listPendingMultipartUploads(listing, prefix),

    async abortMultipartUpload(key, uploadId) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      } catch (error) {
        if (s3ErrorCode(error) === "NoSuchUpload") return;
        if (isUnimplemented(error)) throw new OperationNotSupportedError("AbortMultipartUpload", endpoint, { cause: error });
        throw translateS3Error(error, { bucket });
      }
    },
  };
};
