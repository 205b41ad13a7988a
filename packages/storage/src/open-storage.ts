import type { StorageConfig } from "./config.ts";
import { startEmbeddedS3 } from "./embedded-s3.ts";
import { createObjectStore, type ObjectStore } from "./object-store.ts";
import type { UploadTuning } from "./put-stream.ts";
import { createS3Client } from "./s3-client.ts";
import { DEFAULT_S3_WAIT_MS, waitForBucket } from "./wait-for-bucket.ts";

export interface OpenStorage {
  store: ObjectStore;
  /** The endpoint in use: the configured one, or the embedded server's. */
  endpoint: string | undefined;
  /** Releases the client's sockets and stops the embedded server if this call started one. */
  close(): Promise<void>;
}

/**
 * The composition root's one call for object storage: the embedded s3rver when no endpoint is
 * configured, then a store whose bucket is known to exist. A server that cannot be reached yet is
 * waited for up to `config.waitMs`; one that answers with an error fails at once.
 */
export const openStorage = async (
  config: StorageConfig,
  options: { upload?: UploadTuning; logger?: { warn(details: Record<string, unknown>, message: string): void } } = {},
): Promise<OpenStorage> => {
  const embedded =
    config.endpoint === undefined
      ? await startEmbeddedS3({ bucket: config.bucket, port: config.embedded.port, directory: config.embedded.directory })
      : undefined;
  const endpoint = config.endpoint ?? embedded?.endpoint;
  const client = createS3Client({
    endpoint,
    region: config.region,
    credentials: config.credentials,
    forcePathStyle: config.forcePathStyle,
    timeouts: config.timeouts,
    maxAttempts: config.maxAttempts,
  });
  const store = createObjectStore({
    client,
    bucket: config.bucket,
    endpoint: endpoint ?? `AWS S3 (${config.region})`,
    ...(options.upload ? { upload: options.upload } : {}),
    ...(embedded ? { listingApi: embedded.listingApi } : config.listingApi ? { listingApi: config.listingApi } : {}),
  });
  const close = async () => {
    client.destroy();
    await embedded?.close();
  };
  try {
    await waitForBucket(() => store.ensureBucket(), {
      endpoint: endpoint ?? `AWS S3 (${config.region})`,
      limitMs: config.waitMs ?? DEFAULT_S3_WAIT_MS,
      logger: options.logger,
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { store, endpoint, close };
};
