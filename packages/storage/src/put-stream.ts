import type { Readable } from "node:stream";
import { Transform, pipeline } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { AbortMultipartUploadCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { ContentLengthMismatchError } from "./errors.ts";

export interface PutOptions {
  contentType?: string;
  /** Declared size; when given, a stream that produces a different number of bytes fails the upload. */
  contentLength?: number;
}

export interface StoredObject {
  key: string;
  size: number;
  /** Without the surrounding quotes S3 puts on it. */
  etag: string;
}

export interface UploadTuning {
  /**
   * Bytes buffered per part. One upload holds about (queueSize + 1) × partSize, plus the part
   * buffers V8 has not collected yet (bench/storage.ts measures the total).
   */
  partSizeBytes: number;
  /** Parts in flight at once. */
  queueSize: number;
}

/**
 * S3's minimum part size: against 8 MiB parts it takes ~20 MiB off an upload's peak RSS and
 * uploads no slower (bench/storage.ts).
 */
export const DEFAULT_UPLOAD_TUNING: Readonly<UploadTuning> = Object.freeze({
  partSizeBytes: 5 * 1024 * 1024,
  queueSize: 2,
});

const MAX_PARTS = 10_000;

export const putStream = async (
  deps: { client: S3Client; bucket: string; tuning: UploadTuning },
  key: string,
  source: Readable,
  options: PutOptions = {},
): Promise<StoredObject> => {
  const { client, bucket, tuning } = deps;
  const declared = options.contentLength;
  if (declared !== undefined && (!Number.isSafeInteger(declared) || declared < 0)) {
    throw new RangeError(`contentLength must be a non-negative integer, got ${declared}`);
  }
  const counter = countBytes(key, declared);
  pipeline(source, counter, () => {
    // Errors reach the upload through `counter`; pipeline only needs to tear both down.
  });

  let upload: Upload | undefined;
  try {
    upload = new Upload({
      client,
      params: {
        Bucket: bucket,
        Key: key,
        Body: counter,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
        ...(declared !== undefined ? { ContentLength: declared } : {}),
      },
      // A declared size above MAX_PARTS × partSize needs bigger parts; unknown sizes are capped there.
      partSize: Math.max(tuning.partSizeBytes, Math.ceil((declared ?? 0) / MAX_PARTS)),
      queueSize: tuning.queueSize,
      // We abort ourselves so that the upload's own error, not a failed abort, is what the caller sees.
      leavePartsOnError: true,
    });
    const result = await upload.done();
    return { key, size: counter.bytes, etag: unquote(result.ETag ?? "") };
  } catch (error) {
    counter.destroy();
    if (upload?.uploadId) await abandonParts(client, bucket, key, upload.uploadId, error);
    throw error;
  }
};

/**
 * Best effort: if the server cannot abort (s3rver cannot), the parts stay until the reaper's
 * sweep of listMultipartUploads or the bucket's lifecycle rule removes them.
 */
const abandonParts = async (client: S3Client, bucket: string, key: string, uploadId: string, cause: unknown) => {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  } catch (abortError) {
    if (cause instanceof Error && cause.cause === undefined) cause.cause = abortError;
  }
};

type ByteCounter = Transform & { readonly bytes: number };

const countBytes = (key: string, declared: number | undefined): ByteCounter => {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (declared !== undefined && bytes > declared) {
        done(new ContentLengthMismatchError(key, declared, bytes));
        return;
      }
      done(null, chunk);
    },
    flush(done) {
      done(declared !== undefined && bytes !== declared ? new ContentLengthMismatchError(key, declared, bytes) : null);
    },
  });
  return Object.defineProperty(counter, "bytes", { get: () => bytes }) as ByteCounter;
};

export const unquote = (etag: string): string => etag.replace(/^"|"$/g, "");
