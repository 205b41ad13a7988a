import type { S3Client } from "@aws-sdk/client-s3";
import { ListMultipartUploadsCommand, ListObjectsCommand, ListObjectsV2Command, type _Object } from "@aws-sdk/client-s3";
import { OperationNotSupportedError } from "./errors.ts";
import { unquote } from "./put-stream.ts";
import { isUnimplemented, translateS3Error } from "./s3-errors.ts";

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
  etag: string;
}

export interface PendingMultipartUpload {
  key: string;
  uploadId: string;
  /** When the upload was started; the reaper compares it against its deadline. */
  initiated: Date;
}

export interface ListOptions {
  /** Keys per request (1–1000); smaller pages only matter for tests. */
  pageSize?: number;
}

/**
 * ListObjectsV2 pages with an opaque continuation token. s3rver makes that token with DES, which
 * Node >= 17 (OpenSSL 3) no longer offers, so any truncated V2 page fails there with InternalError;
 * V1's ListObjects pages by "marker" (the last key seen) and works on s3rver, MinIO and AWS alike.
 */
export type ListingApi = "ListObjectsV2" | "ListObjects";

interface ListingDeps {
  client: S3Client;
  bucket: string;
  endpoint: string;
  api: ListingApi;
}

/** Every object whose key starts with `prefix`, page after page, in key order. */
export async function* listObjects(
  deps: ListingDeps,
  prefix: string,
  options: ListOptions = {},
): AsyncGenerator<ListedObject, void, undefined> {
  const fetchPage = deps.api === "ListObjects" ? pageByMarker : pageByContinuationToken;
  let cursor: string | undefined;
  do {
    const page = await fetchPage(deps, prefix, options.pageSize, cursor).catch((error: unknown) => {
      throw translateS3Error(error, deps);
    });
    for (const entry of page.objects) {
      if (entry.Key === undefined) continue;
      yield {
        key: entry.Key,
        size: entry.Size ?? 0,
        lastModified: entry.LastModified ?? new Date(0),
        etag: unquote(entry.ETag ?? ""),
      };
    }
    cursor = page.next;
  } while (cursor !== undefined);
}

interface ListingPage {
  objects: _Object[];
  /** Where the next page starts; undefined after the last page. */
  next: string | undefined;
}

const pageByContinuationToken = async (
  deps: ListingDeps,
  prefix: string,
  pageSize: number | undefined,
  token: string | undefined,
): Promise<ListingPage> => {
  const page = await deps.client.send(
    new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: pageSize }),
  );
  return { objects: page.Contents ?? [], next: page.IsTruncated ? page.NextContinuationToken : undefined };
};

const pageByMarker = async (
  deps: ListingDeps,
  prefix: string,
  pageSize: number | undefined,
  marker: string | undefined,
): Promise<ListingPage> => {
  const page = await deps.client.send(
    new ListObjectsCommand({ Bucket: deps.bucket, Prefix: prefix, Marker: marker, MaxKeys: pageSize }),
  );
  const objects = page.Contents ?? [];
  // Without a delimiter S3 sends no NextMarker: the last key of the page is the marker.
  return { objects, next: page.IsTruncated ? (page.NextMarker ?? objects.at(-1)?.Key) : undefined };
};

/** Multipart uploads started and neither completed nor aborted: the parts they hold cost storage. */
export async function* listPendingMultipartUploads(
  deps: ListingDeps,
  prefix?: string,
): AsyncGenerator<PendingMultipartUpload, void, undefined> {
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await deps.client
      .send(
        new ListMultipartUploadsCommand({
          Bucket: deps.bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      )
      .catch((error: unknown) => {
        if (isUnimplemented(error)) {
          throw new OperationNotSupportedError("ListMultipartUploads", deps.endpoint, { cause: error });
        }
        throw translateS3Error(error, deps);
      });
    for (const upload of page.Uploads ?? []) {
      if (upload.Key === undefined || upload.UploadId === undefined) continue;
      yield { key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated ?? new Date(0) };
    }
    const truncated = page.IsTruncated === true;
    keyMarker = truncated ? page.NextKeyMarker : undefined;
    uploadIdMarker = truncated ? page.NextUploadIdMarker : undefined;
  } while (keyMarker);
}
