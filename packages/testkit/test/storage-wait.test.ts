import { Readable } from "node:stream";
import { openStorage, storageConfigFromEnv, StorageUnreachableError } from "@callflow/storage";
import { describe, expect, settlesWithin, startTcpGate, test } from "../src/index.ts";

const gateTo = (endpoint: string) => {
  const url = new URL(endpoint);
  return startTcpGate({ host: url.hostname, port: Number(url.port) });
};

const configThrough = (endpoint: string, bucket: string, waitMs: number) =>
  storageConfigFromEnv({
    CALLFLOW_S3_ENDPOINT: endpoint,
    CALLFLOW_S3_BUCKET: bucket,
    CALLFLOW_S3_ACCESS_KEY_ID: "S3RVER",
    CALLFLOW_S3_SECRET_ACCESS_KEY: "S3RVER",
    CALLFLOW_S3_LISTING_API: "ListObjects",
    CALLFLOW_S3_MAX_ATTEMPTS: "1",
    CALLFLOW_S3_WAIT_MS: String(waitMs),
  });

describe("object storage at start", () => {
  test("an unreachable server is waited for, then the bucket is ensured and used", async ({ storage }) => {
    const gate = await gateTo(storage.endpoint);
    const opening = openStorage(configThrough(`http://127.0.0.1:${gate.port}`, storage.bucket, 60_000));
    try {
      expect(await settlesWithin(opening, 2_000)).toBe(false);
      await gate.open();
      const opened = await opening;
      try {
        await opened.store.putStream("late.txt", Readable.from([Buffer.from("late")]));
        expect(await opened.store.head("late.txt")).toMatchObject({ size: 4 });
      } finally {
        await opened.close();
      }
    } finally {
      await opening.catch(() => undefined);
      await gate.shut();
    }
  });

  test("a server that never comes up fails start after the limit, naming the endpoint and the limit", async ({ storage }) => {
    const gate = await gateTo(storage.endpoint);
    const started = Date.now();
    const error = await openStorage(configThrough(`http://127.0.0.1:${gate.port}`, storage.bucket, 1_500)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnreachableError);
    expect((error as Error).message).toContain(`object storage at http://127.0.0.1:${gate.port} was not reachable within 1500 ms`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
  });

  test("a server that answers with an error is not waited for", async ({ storage }) => {
    const started = Date.now();
    const config = storageConfigFromEnv({
      CALLFLOW_S3_ENDPOINT: storage.endpoint,
      CALLFLOW_S3_BUCKET: storage.bucket,
      CALLFLOW_S3_ACCESS_KEY_ID: "not-the-key",
      CALLFLOW_S3_SECRET_ACCESS_KEY: "not-the-secret",
      CALLFLOW_S3_WAIT_MS: "60000",
    });
    await expect(openStorage(config)).rejects.not.toBeInstanceOf(StorageUnreachableError);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
