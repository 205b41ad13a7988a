import { S3ServiceException } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { isStorageUnreachable } from "./wait-for-bucket.ts";

const serviceError = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status } });
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:9000`), { code, syscall: "connect" });

describe("an object storage error counts as unreachable", () => {
  it.each([
    ["a refused connection", socketError("ECONNREFUSED")],
    ["a host name not (yet) resolvable", socketError("ENOTFOUND")],
    ["the SDK's request timeout", Object.assign(new Error("Request timed out"), { name: "TimeoutError" })],
    ["a restarting MinIO's 503", serviceError("ServiceUnavailable", 503)],
    ["a gateway in front of it answering 502", serviceError("BadGateway", 502)],
  ])("when it is %s", (_, error) => {
    expect(isStorageUnreachable(error)).toBe(true);
  });

  it.each([
    ["wrong credentials", serviceError("SignatureDoesNotMatch", 403)],
    ["a bucket name owned by someone else", serviceError("BucketAlreadyExists", 409)],
    ["an internal error that answered", serviceError("InternalError", 500)],
  ])("but not when it is %s", (_, error) => {
    expect(isStorageUnreachable(error)).toBe(false);
  });
});
