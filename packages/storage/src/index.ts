export type { ByteRange } from "./byte-range.ts";
export { storageConfigFromEnv, type StorageConfig } from "./config.ts";
export { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3, type EmbeddedS3Options } from "./embedded-s3.ts";
export {
  BucketNotFoundError,
  ContentLengthMismatchError,
  DeleteObjectsError,
  ObjectNotFoundError,
  OperationNotSupportedError,
  RangeNotSatisfiableError,
  StorageConfigError,
  StorageError,
  type DeleteFailure,
  type StorageErrorCode,
} from "./errors.ts";
export type { ListedObject, ListingApi, ListOptions, PendingMultipartUpload } from "./listing.ts";
export {
  createObjectStore,
  type ObjectDownload,
  type ObjectHead,
  type ObjectStore,
  type ObjectStoreOptions,
} from "./object-store.ts";
export { openStorage, type OpenStorage } from "./open-storage.ts";
export { DEFAULT_S3_WAIT_MS, isStorageUnreachable, StorageUnreachableError, waitForBucket, type BucketWaitOptions } from "./wait-for-bucket.ts";
export { DEFAULT_UPLOAD_TUNING, type PutOptions, type StoredObject, type UploadTuning } from "./put-stream.ts";
export {
  createS3Client,
  DEFAULT_S3_MAX_ATTEMPTS,
  DEFAULT_S3_TIMEOUTS,
  type S3Connection,
  type S3Credentials,
  type S3Timeouts,
} from "./s3-client.ts";
