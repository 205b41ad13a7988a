import { describe, expect, it } from "vitest";
import { storageConfigFromEnv } from "./config.ts";
import { StorageConfigError } from "./errors.ts";

describe("storageConfigFromEnv", () => {
  it("defaults to the embedded server with its built-in key pair and the callflow-audio bucket", () => {
    const config = storageConfigFromEnv({});

    expect(config).toMatchObject({
      endpoint: undefined,
      bucket: "callflow-audio",
      region: "us-east-1",
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      forcePathStyle: true,
      maxAttempts: 3,
      waitMs: 180_000,
      embedded: { port: 0, directory: undefined },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads an external endpoint with its own credentials, region and bounds", () => {
    const config = storageConfigFromEnv({
      CALLFLOW_S3_ENDPOINT: "http://minio:9000/",
      CALLFLOW_S3_BUCKET: "audio.prod",
      CALLFLOW_S3_REGION: "eu-west-1",
      CALLFLOW_S3_ACCESS_KEY_ID: "callflow",
      CALLFLOW_S3_SECRET_ACCESS_KEY: "not-a-real-secret",
      CALLFLOW_S3_REQUEST_TIMEOUT_MS: "15000",
      CALLFLOW_S3_MAX_ATTEMPTS: "5",
    });

    expect(config).toMatchObject({
      endpoint: "http://minio:9000",
      bucket: "audio.prod",
      region: "eu-west-1",
      credentials: { accessKeyId: "callflow", secretAccessKey: "not-a-real-secret" },
      timeouts: { requestMs: 15_000, connectMs: 5_000 },
      maxAttempts: 5,
    });
  });

  it("takes the listing API for an endpoint that is an s3rver, and names the variable of a bad one", () => {
    expect(storageConfigFromEnv({}).listingApi).toBeUndefined();
    expect(storageConfigFromEnv({ CALLFLOW_S3_ENDPOINT: "http://127.0.0.1:4569", CALLFLOW_S3_LISTING_API: "ListObjects" }).listingApi).toBe("ListObjects");
    expect(() => storageConfigFromEnv({ CALLFLOW_S3_LISTING_API: "v3" })).toThrow(/CALLFLOW_S3_LISTING_API must be one of ListObjectsV2, ListObjects: "v3"/);
  });

  it("leaves credentials to the SDK's default chain when an endpoint is set without keys", () => {
    expect(storageConfigFromEnv({ CALLFLOW_S3_ENDPOINT: "https://s3.eu-west-1.amazonaws.com" }).credentials).toBeUndefined();
  });

  it("treats empty variables as unset", () => {
    expect(storageConfigFromEnv({ CALLFLOW_S3_ENDPOINT: "", CALLFLOW_S3_BUCKET: " " })).toMatchObject({
      endpoint: undefined,
      bucket: "callflow-audio",
    });
  });

  it.each([
    [{ CALLFLOW_S3_ENDPOINT: "minio:9000" }, /^CALLFLOW_S3_ENDPOINT must be an http:\/\/ or https:\/\/ URL: "minio:9000"$/],
    [{ CALLFLOW_S3_ENDPOINT: "not a url" }, /^CALLFLOW_S3_ENDPOINT is not a URL: "not a url"$/],
    [{ CALLFLOW_S3_ENDPOINT: "http://minio:9000/audio" }, /^CALLFLOW_S3_ENDPOINT must be scheme:\/\/host\[:port\] only/],
    [{ CALLFLOW_S3_BUCKET: "Audio_Files" }, /^CALLFLOW_S3_BUCKET is not a valid bucket name .*"Audio_Files"$/],
    [{ CALLFLOW_S3_BUCKET: "ab" }, /^CALLFLOW_S3_BUCKET is not a valid bucket name/],
    [{ CALLFLOW_S3_ENDPOINT: "http://minio:9000", CALLFLOW_S3_ACCESS_KEY_ID: "callflow" }, /^CALLFLOW_S3_SECRET_ACCESS_KEY is required/],
    [{ CALLFLOW_S3_ENDPOINT: "http://minio:9000", CALLFLOW_S3_SECRET_ACCESS_KEY: "x" }, /^CALLFLOW_S3_ACCESS_KEY_ID is required/],
    [{ CALLFLOW_S3_ACCESS_KEY_ID: "callflow" }, /^CALLFLOW_S3_ACCESS_KEY_ID is set but CALLFLOW_S3_ENDPOINT is not/],
    [{ CALLFLOW_S3_MAX_ATTEMPTS: "0" }, /^CALLFLOW_S3_MAX_ATTEMPTS must be an integer from 1 to 10: "0"$/],
    [{ CALLFLOW_S3_REQUEST_TIMEOUT_MS: "30s" }, /^CALLFLOW_S3_REQUEST_TIMEOUT_MS must be an integer/],
    [{ CALLFLOW_S3_EMBEDDED_PORT: "70000" }, /^CALLFLOW_S3_EMBEDDED_PORT must be an integer from 0 to 65535/],
    [{ CALLFLOW_S3_FORCE_PATH_STYLE: "yes" }, /^CALLFLOW_S3_FORCE_PATH_STYLE must be true or false: "yes"$/],
  ])("rejects %o with an error naming the variable", (env, message) => {
    expect(() => storageConfigFromEnv(env)).toThrow(StorageConfigError);
    expect(() => storageConfigFromEnv(env)).toThrow(message);
  });
});
