import { describe, expect, it } from "vitest";
import { artifactAnswer, retryAfterSeconds } from "./artifact.ts";

const NOW = Date.parse("2026-03-01T10:00:00Z");
const json = (status: number, body: unknown, headers: Record<string, string> = {}) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const ready = async () => "the audio";

describe("an artifact answer under the API's contract", () => {
  it("200 and 206 are ready", async () => {
    expect(await artifactAnswer(new Response("x", { status: 200 }), ready, NOW)).toEqual({ kind: "ready", value: "the audio" });
    expect(await artifactAnswer(new Response("x", { status: 206 }), ready, NOW)).toEqual({ kind: "ready", value: "the audio" });
  });

  it("202 waits Retry-After and carries the body's message", async () => {
    const answer = await artifactAnswer(json(202, { status: "pending", message: "the recording is being prepared (attempt 2/3)", retryAfterSeconds: 9 }, { "retry-after": "4" }), ready, NOW);
    expect(answer).toEqual({ kind: "pending", message: "the recording is being prepared (attempt 2/3)", retryAfterSeconds: 4, askAgainAt: NOW + 4_000 });
  });

  it("404 is absent and any other answer is a terminal failure with its code", async () => {
    expect(await artifactAnswer(json(404, { error: { code: "recording_not_available", message: "this call has no recording" } }), ready, NOW)).toEqual({
      kind: "absent",
      code: "recording_not_available",
      message: "this call has no recording",
    });
    expect(await artifactAnswer(json(500, { error: { code: "merge_duration_mismatch", message: "2.1 s of 9 s", stage: "merge" } }), ready, NOW)).toEqual({
      kind: "failed",
      status: 500,
      code: "merge_duration_mismatch",
      message: "2.1 s of 9 s",
    });
    expect(await artifactAnswer(new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }), ready, NOW)).toMatchObject({ kind: "failed", status: 502, code: "http_502" });
  });

  it("never waits less than a second: a missing, zero or past Retry-After cannot make a loop", () => {
    expect(retryAfterSeconds("7", 3, NOW)).toBe(7);
    expect(retryAfterSeconds(null, 3, NOW)).toBe(3);
    expect(retryAfterSeconds(null, undefined, NOW)).toBe(1);
    expect(retryAfterSeconds("0", undefined, NOW)).toBe(1);
    expect(retryAfterSeconds("soon", undefined, NOW)).toBe(1);
    expect(retryAfterSeconds(new Date(NOW + 12_500).toUTCString(), undefined, NOW)).toBe(12);
    expect(retryAfterSeconds(new Date(NOW - 60_000).toUTCString(), undefined, NOW)).toBe(1);
  });
});
