import { EMBEDDED_S3_CREDENTIALS } from "./embedded-s3.ts";
import type { ListingApi } from "./listing.ts";
import { StorageConfigError } from "./errors.ts";
import { DEFAULT_S3_WAIT_MS } from "./wait-for-bucket.ts";
import { DEFAULT_S3_MAX_ATTEMPTS, DEFAULT_S3_TIMEOUTS, type S3Credentials, type S3Timeouts } from "./s3-client.ts";

export interface StorageConfig {
  /** Absent: start the embedded s3rver in this process. */
  readonly endpoint: string | undefined;
  readonly bucket: string;
  readonly region: string;
  /** Absent with an endpoint: the SDK's default chain (web identity on Kubernetes, instance role). */
  readonly credentials: Readonly<S3Credentials> | undefined;
  readonly forcePathStyle: boolean;
  readonly timeouts: Readonly<S3Timeouts>;
  readonly maxAttempts: number;
  readonly embedded: { readonly port: number; readonly directory: string | undefined };
  /** At start, how long an unreachable server is waited for; unset (a hand-built config) means 3 minutes. */
  readonly waitMs?: number;
  /** How to list: real servers page ListObjectsV2; s3rver (embedded, or shared by `callflow up`) needs ListObjects. */
  readonly listingApi: ListingApi | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Reads the CALLFLOW_S3_* variables once, at start; every error names its variable. */
export const storageConfigFromEnv = (env: Env = process.env): StorageConfig => {
  const endpoint = readEndpoint(env, "CALLFLOW_S3_ENDPOINT");
  const bucket = read(env, "CALLFLOW_S3_BUCKET") ?? "callflow-audio";
  if (!BUCKET_NAME.test(bucket)) {
    throw new StorageConfigError(
      `CALLFLOW_S3_BUCKET is not a valid bucket name (3–63 of a-z 0-9 . -, starting and ending with a letter or digit): "${bucket}"`,
    );
  }
  return Object.freeze({
    endpoint,
    bucket,
    region: read(env, "CALLFLOW_S3_REGION") ?? "us-east-1",
    credentials: endpoint === undefined ? embeddedCredentials(env) : configuredCredentials(env),
    forcePathStyle: readBoolean(env, "CALLFLOW_S3_FORCE_PATH_STYLE", true),
    timeouts: Object.freeze({
      connectMs: readInteger(env, "CALLFLOW_S3_CONNECT_TIMEOUT_MS", DEFAULT_S3_TIMEOUTS.connectMs, 1),
      requestMs: readInteger(env, "CALLFLOW_S3_REQUEST_TIMEOUT_MS", DEFAULT_S3_TIMEOUTS.requestMs, 1),
      socketIdleMs: readInteger(env, "CALLFLOW_S3_SOCKET_IDLE_TIMEOUT_MS", DEFAULT_S3_TIMEOUTS.socketIdleMs, 1),
    }),
    maxAttempts: readInteger(env, "CALLFLOW_S3_MAX_ATTEMPTS", DEFAULT_S3_MAX_ATTEMPTS, 1, 10),
    waitMs: readInteger(env, "CALLFLOW_S3_WAIT_MS", DEFAULT_S3_WAIT_MS, 1),
    embedded: Object.freeze({
      port: readInteger(env, "CALLFLOW_S3_EMBEDDED_PORT", 0, 0, 65_535),
      directory: read(env, "CALLFLOW_S3_EMBEDDED_DIR"),
    }),
    listingApi: readListingApi(env, "CALLFLOW_S3_LISTING_API"),
  });
};

const LISTING_APIS: readonly ListingApi[] = ["ListObjectsV2", "ListObjects"];

const readListingApi = (env: Env, name: string): ListingApi | undefined => {
  const value = read(env, name);
  if (value === undefined) return undefined;
  if (!(LISTING_APIS as readonly string[]).includes(value)) throw new StorageConfigError(`${name} must be one of ${LISTING_APIS.join(", ")}: "${value}"`);
  return value as ListingApi;
};

/** Empty counts as unset: compose files and Helm values often render unset variables as "". */
const read = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value ? value : undefined;
};

const readEndpoint = (env: Env, name: string): string | undefined => {
  const value = read(env, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new StorageConfigError(`${name} is not a URL: "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new StorageConfigError(`${name} must be an http:// or https:// URL: "${value}"`);
  }
  if (url.pathname !== "/" || url.search || url.username) {
    throw new StorageConfigError(`${name} must be scheme://host[:port] only, without path, query or user: "${value}"`);
  }
  return url.origin;
};

const configuredCredentials = (env: Env): S3Credentials | undefined => {
  const accessKeyId = read(env, "CALLFLOW_S3_ACCESS_KEY_ID");
  const secretAccessKey = read(env, "CALLFLOW_S3_SECRET_ACCESS_KEY");
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined) {
    throw new StorageConfigError("CALLFLOW_S3_ACCESS_KEY_ID is required when CALLFLOW_S3_SECRET_ACCESS_KEY is set");
  }
  if (secretAccessKey === undefined) {
    throw new StorageConfigError("CALLFLOW_S3_SECRET_ACCESS_KEY is required when CALLFLOW_S3_ACCESS_KEY_ID is set");
  }
  return Object.freeze({ accessKeyId, secretAccessKey });
};

const embeddedCredentials = (env: Env): S3Credentials => {
  for (const [name, builtIn] of [
    ["CALLFLOW_S3_ACCESS_KEY_ID", EMBEDDED_S3_CREDENTIALS.accessKeyId],
    ["CALLFLOW_S3_SECRET_ACCESS_KEY", EMBEDDED_S3_CREDENTIALS.secretAccessKey],
  ] as const) {
    const value = read(env, name);
    if (value !== undefined && value !== builtIn) {
      throw new StorageConfigError(
        `${name} is set but CALLFLOW_S3_ENDPOINT is not: the embedded s3rver accepts only its built-in key pair; set CALLFLOW_S3_ENDPOINT or unset ${name}`,
      );
    }
  }
  return EMBEDDED_S3_CREDENTIALS;
};

const readInteger = (env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  const value = read(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
    throw new StorageConfigError(`${name} must be an integer from ${min} to ${max}: "${value}"`);
  }
  return parsed;
};

const readBoolean = (env: Env, name: string, fallback: boolean): boolean => {
  const value = read(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new StorageConfigError(`${name} must be true or false: "${value}"`);
};
