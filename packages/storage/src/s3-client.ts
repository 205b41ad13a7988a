import { S3Client } from "@aws-sdk/client-s3";
import { traceAwsSdkClient } from "@callflow/telemetry";

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Where the object store is and how long we are willing to wait for it. */
export interface S3Connection {
  /** `http(s)://host:port` of an S3-compatible server; absent means AWS's regional endpoint. */
  endpoint?: string;
  region: string;
  /** Absent means the SDK's default chain (environment, web identity, instance role). */
  credentials?: S3Credentials;
  /** Path-style (`endpoint/bucket/key`) is what s3rver and MinIO expect; AWS accepts it too. */
  forcePathStyle?: boolean;
  timeouts?: Partial<S3Timeouts>;
  /** Total tries per call, first one included. */
  maxAttempts?: number;
}

export interface S3Timeouts {
  /** TCP (and TLS) connection establishment. */
  connectMs: number;
  /** From sending a request until the response headers arrive, body upload included. */
  requestMs: number;
  /** Longest silence on an open socket, including while a response body is being read. */
  socketIdleMs: number;
}

export const DEFAULT_S3_TIMEOUTS: Readonly<S3Timeouts> = Object.freeze({
  connectMs: 5_000,
  requestMs: 60_000,
  socketIdleMs: 30_000,
});

export const DEFAULT_S3_MAX_ATTEMPTS = 3;

// Every S3 command is a client span of the request or message it serves (instrumentation-aws-sdk).
traceAwsSdkClient(S3Client);

export const createS3Client = (connection: S3Connection): S3Client => {
  const timeouts = { ...DEFAULT_S3_TIMEOUTS, ...connection.timeouts };
  return new S3Client({
    region: connection.region,
    ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
    // A copy: the SDK writes bookkeeping onto the credentials object, and ours may be frozen.
    ...(connection.credentials ? { credentials: { ...connection.credentials } } : {}),
    forcePathStyle: connection.forcePathStyle ?? true,
    maxAttempts: connection.maxAttempts ?? DEFAULT_S3_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: timeouts.connectMs,
      requestTimeout: timeouts.requestMs,
      // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting.
      throwOnRequestTimeout: true,
      socketTimeout: timeouts.socketIdleMs,
    },
  });
};
