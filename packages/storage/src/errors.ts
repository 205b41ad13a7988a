import type { ByteRange } from "./byte-range.ts";

/**
 * Errors the storage package throws on purpose. Each carries a stable `code` so callers can
 * record it as `error_code` on the entity concerned; the message is for humans.
 */
export type StorageErrorCode =
  | "object_not_found"
  | "bucket_not_found"
  | "range_not_satisfiable"
  | "operation_not_supported"
  | "content_length_mismatch"
  | "delete_failed"
  | "invalid_storage_config";

export abstract class StorageError extends Error {
  abstract readonly code: StorageErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ObjectNotFoundError extends StorageError {
  readonly code = "object_not_found";

  constructor(
    readonly bucket: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`object "${key}" does not exist in bucket "${bucket}"`, options);
  }
}

export class BucketNotFoundError extends StorageError {
  readonly code = "bucket_not_found";

  constructor(
    readonly bucket: string,
    options?: { cause?: unknown },
  ) {
    super(`bucket "${bucket}" does not exist (call ensureBucket() at start)`, options);
  }
}

export class RangeNotSatisfiableError extends StorageError {
  readonly code = "range_not_satisfiable";

  constructor(
    readonly key: string,
    readonly range: ByteRange,
    options?: { cause?: unknown },
  ) {
    super(`range bytes=${range.start}-${range.end ?? ""} is not satisfiable for object "${key}"`, options);
  }
}

/** The server speaks S3 but not this operation (s3rver lacks ListMultipartUploads and AbortMultipartUpload). */
export class OperationNotSupportedError extends StorageError {
  readonly code = "operation_not_supported";

  constructor(
    readonly operation: string,
    readonly endpoint: string,
    options?: { cause?: unknown },
  ) {
    super(`the object store at ${endpoint} does not implement ${operation}`, options);
  }
}

export class ContentLengthMismatchError extends StorageError {
  readonly code = "content_length_mismatch";

  constructor(
    readonly key: string,
    readonly declaredBytes: number,
    readonly actualBytes: number,
  ) {
    const relation = actualBytes > declaredBytes ? "more than" : "only";
    super(
      `upload of "${key}" declared ${declaredBytes} bytes but the stream produced ${relation} ${actualBytes}`,
    );
  }
}

export interface DeleteFailure {
  key: string;
  code: string;
  message: string;
}

export class DeleteObjectsError extends StorageError {
  readonly code = "delete_failed";

  constructor(readonly failures: readonly DeleteFailure[]) {
    const first = failures[0];
    super(
      `${failures.length} object(s) could not be deleted` +
        (first ? `; first: "${first.key}" ${first.code}: ${first.message}` : ""),
    );
  }
}

export class StorageConfigError extends StorageError {
  readonly code = "invalid_storage_config";
}
