import {
  createObjectStore,
  createS3Client,
  startEmbeddedS3,
  type OpenStorage,
  type StorageConfig,
  type UploadTuning,
} from "@callflow/storage";

/**
 * openStorage with ingest's own upload tuning: every concurrent upload holds about
 * (queueSize + 1) × partSize, and the ingest API runs many at once inside a 200 MB budget.
 * (packages/storage's openStorage does not take tuning yet; this mirrors it until it does.)
 */
export const openIngestStorage = async (config: StorageConfig, upload: UploadTuning): Promise<OpenStorage> => {
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
    upload,
    ...(embedded ? { listingApi: embedded.listingApi } : {}),
  });
  const close = async () => {
    client.destroy();
    await embedded?.close();
  };
  try {
    await store.ensureBucket();
  } catch (error) {
    await close();
    throw error;
  }
  return { store, endpoint, close };
};
