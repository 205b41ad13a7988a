import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ListingApi } from "./listing.ts";
import type { S3Credentials } from "./s3-client.ts";

/** s3rver accepts exactly one key pair, built into it. */
export const EMBEDDED_S3_CREDENTIALS: Readonly<S3Credentials> = Object.freeze({
  accessKeyId: "S3RVER",
  secretAccessKey: "S3RVER",
});

export interface EmbeddedS3Options {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Where objects are kept; default a fresh temporary directory, removed on close. */
  directory?: string;
  /** Created at start if missing. */
  bucket: string;
}

export interface EmbeddedS3 {
  /** `http://127.0.0.1:<port>`, for a path-style S3 client. */
  endpoint: string;
  directory: string;
  /** s3rver cannot page ListObjectsV2 on Node >= 17; pass this to createObjectStore. */
  listingApi: ListingApi;
  close(): Promise<void>;
}

/** An S3-protocol server in this process, on loopback only, for local runs and tests. */
export const startEmbeddedS3 = async (options: EmbeddedS3Options): Promise<EmbeddedS3> => {
  // Loaded only here: s3rver and its Koa stack cost every importer of this package ~17 MiB of memory,
  // and a service configured with a real endpoint never starts it. Resolved at run time from this
  // package rather than imported by name, so that a bundler (scripts/build-service.mjs) leaves it
  // out of a service's bundle: bundled, its ~2 MiB of source stays in every process's heap. Found
  // from this package's own location, where pnpm links it, also when this file is bundled elsewhere.
  const storageEntry = createRequire(import.meta.url).resolve("@callflow/storage");
  const s3rverEntry = createRequire(storageEntry).resolve("s3rver");
  const { default: S3rver } = (await import(pathToFileURL(s3rverEntry).href)) as { default: typeof import("s3rver") };
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), "callflow-s3-")));
  const s3rver = new S3rver({
    directory,
    silent: true,
    configureBuckets: [{ name: options.bucket, configs: [] }],
  });
  await s3rver.configureBuckets();

  // Our own HTTP server rather than s3rver.run(): close() must not wait for idle keep-alive
  // sockets held by S3 clients, and only loopback may reach a store whose credentials are public.
  const server = createServer(s3rver.callback());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    if (ownsDirectory) await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      server.closeAllConnections();
      await closed;
      if (ownsDirectory) await rm(directory, { recursive: true, force: true });
    })();
    return closing;
  };

  return { endpoint: `http://127.0.0.1:${port}`, directory, listingApi: "ListObjects", close };
};
