import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { formatRange, servedRange, type ByteRange } from "./byte-range.ts";
import { RangeNotSatisfiableError } from "./errors.ts";
import { unquote } from "./put-stream.ts";
import { s3ErrorCode, translateS3Error } from "./s3-errors.ts";
import { takeBytes } from "./take-bytes.ts";

export interface ObjectDownload {
  /** The object's bytes; consume or destroy it, or the connection stays busy. */
  body: Readable;
  /** Bytes in `body` (the range's length for a range read). */
  contentLength: number;
  contentType: string | undefined;
  /** `bytes start-end/total` for a range read. */
  contentRange: string | undefined;
  etag: string;
}

export const getStream = async (
  deps: { client: S3Client; bucket: string },
  key: string,
  range: ByteRange | undefined,
): Promise<ObjectDownload> => {
  const { client, bucket } = deps;
  const output = await client
    .send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: formatRange(range) } : {}) }))
    .catch((error: unknown) => {
      if (range && s3ErrorCode(error) === "InvalidRange") throw new RangeNotSatisfiableError(key, range, { cause: error });
      throw translateS3Error(error, { bucket, key });
    });
  if (!(output.Body instanceof Readable)) {
    throw new TypeError("GetObject returned a body that is not a Node.js Readable; use the Node.js runtime");
  }
  const download: ObjectDownload = {
    body: output.Body,
    contentLength: output.ContentLength ?? 0,
    contentType: output.ContentType,
    contentRange: output.ContentRange,
    etag: unquote(output.ETag ?? ""),
  };
  return range ? exactly(download, range, key) : download;
};

/**
 * HTTP lets a server send more than the range asked for, and s3rver does (it answers
 * `bytes=0-0` with the whole object); callers get exactly the bytes they asked for.
 */
const exactly = (download: ObjectDownload, range: ByteRange, key: string): ObjectDownload => {
  const served = servedRange(download.contentRange, download.contentLength);
  if (!served || served.start !== range.start) {
    download.body.destroy();
    throw new Error(`asked for ${formatRange(range)} of "${key}", the server sent ${download.contentRange ?? "the whole object"}`);
  }
  const lastWanted = range.end ?? served.end;
  if (served.end <= lastWanted) return download;
  return {
    ...download,
    body: takeBytes(download.body, lastWanted - range.start + 1),
    contentLength: lastWanted - range.start + 1,
    contentRange: `bytes ${range.start}-${lastWanted}/${served.total ?? "*"}`,
  };
};
