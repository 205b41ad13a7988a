import { rmSync } from "node:fs";
import { createObjectStore, createS3Client, EMBEDDED_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3, type ObjectStore } from "@callflow/storage";
import { uniqueSuffix } from "./env.ts";

export interface TestBucket {
  bucket: string;
  endpoint: string;
  store: ObjectStore;
  cleanup(): Promise<void>;
}

/** One embedded S3 server per test worker, started on first use (unless an endpoint is given). */
let embedded: Promise<EmbeddedS3> | undefined;

export const embeddedS3ForWorker = (): Promise<EmbeddedS3> => {
  embedded ??= startEmbeddedS3({ bucket: "callflow-testkit" }).then((server) => {
    // It lives as long as the worker, which cannot await a close on its way out: remove its data then.
    process.once("exit", () => rmSync(server.directory, { recursive: true, force: true }));
    return server;
  });
  return embedded;
};

/** A bucket of the test's own, emptied and forgotten afterwards. */
export async function createTestBucket(endpointOverride: string | undefined): Promise<TestBucket> {
  const endpoint = endpointOverride ?? (await embeddedS3ForWorker()).endpoint;
  const bucket = `t-${uniqueSuffix()}`;
  const client = createS3Client({ endpoint, region: "us-east-1", credentials: EMBEDDED_S3_CREDENTIALS, forcePathStyle: true });
  const store = createObjectStore({ client, bucket, endpoint });
  await store.ensureBucket();
  return {
    bucket,
    endpoint,
    store,
    cleanup: async () => {
      const keys: string[] = [];
      for await (const object of store.list("")) keys.push(object.key);
      if (keys.length) await store.deleteMany(keys);
      client.destroy();
    },
  };
}
