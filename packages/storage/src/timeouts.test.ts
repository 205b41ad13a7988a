import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EMBEDDED_S3_CREDENTIALS } from "./embedded-s3.ts";
import { createObjectStore } from "./object-store.ts";
import { createS3Client } from "./s3-client.ts";

/** An HTTP server that reads requests and never answers them. */
const startSilentServer = async (): Promise<{ server: Server; endpoint: string; requests: IncomingMessage[] }> => {
  const requests: IncomingMessage[] = [];
  const server = createServer((request) => requests.push(request));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
};

describe("bounded calls", () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("gives up on a server that never answers after maxAttempts tries of requestMs each", async () => {
    const silent = await startSilentServer();
    server = silent.server;
    const client = createS3Client({
      endpoint: silent.endpoint,
      region: "us-east-1",
      credentials: EMBEDDED_S3_CREDENTIALS,
      timeouts: { connectMs: 500, requestMs: 300, socketIdleMs: 300 },
      maxAttempts: 2,
    });
    const store = createObjectStore({ client, bucket: "never-answers" });
    const started = performance.now();
    try {
      await expect(store.head("any")).rejects.toMatchObject({ name: "TimeoutError" });
    } finally {
      client.destroy();
    }

    expect(silent.requests).toHaveLength(2);
    // Two tries of 300 ms plus the SDK's jittered backoff between them, nowhere near "forever".
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
