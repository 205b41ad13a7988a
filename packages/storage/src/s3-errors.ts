import { S3ServiceException } from "@aws-sdk/client-s3";
import { BucketNotFoundError, ObjectNotFoundError } from "./errors.ts";

/** The S3 error code (`NoSuchKey`, `NotImplemented`, …) of a service error, or undefined. */
export const s3ErrorCode = (error: unknown): string | undefined =>
  error instanceof S3ServiceException ? error.name : undefined;

export const httpStatusOf = (error: unknown): number | undefined =>
  error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;

/** HEAD responses have no body, so a missing object or bucket shows only as a bare 404. */
export const isMissing = (error: unknown): boolean => {
  const code = s3ErrorCode(error);
  return code === "NoSuchKey" || code === "NotFound" || (code !== undefined && httpStatusOf(error) === 404);
};

/** What a server answers for an operation it does not implement (s3rver: 501 or 405). */
export const isUnimplemented = (error: unknown): boolean => {
  const code = s3ErrorCode(error);
  return code === "NotImplemented" || code === "MethodNotAllowed";
};

/**
 * Replaces the SDK's errors for a missing bucket or key with ours, so callers can branch on a
 * type instead of on strings; anything else (timeouts, 5xx after retries, …) passes through.
 */
export const translateS3Error = (error: unknown, target: { bucket: string; key?: string }): unknown => {
  const code = s3ErrorCode(error);
  if (code === "NoSuchBucket") return new BucketNotFoundError(target.bucket, { cause: error });
  if (target.key !== undefined && (code === "NoSuchKey" || (code === "NotFound" && httpStatusOf(error) === 404))) {
    return new ObjectNotFoundError(target.bucket, target.key, { cause: error });
  }
  return error;
};
