import { mkdtemp, rm } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { validateRequest } from "twilio/lib/webhooks/webhooks.js";
import { describe, expect, it } from "vitest";
import { classifyError } from "@callflow/messaging";
import { probeAudio } from "@callflow/media";
import { waitFor } from "@callflow/testkit";
import { PermanentTelephonyError, RetryableTelephonyError } from "../src/errors.ts";
import type { CallStatus, PlaceCallRequest } from "../src/port.ts";
import { FROM, useLocalTwilio } from "./support/local-twilio.ts";

const local = useLocalTwilio({ retryAfterSeconds: 3 });

const request = (to: string, dialId = "dial-1", attempt = 1): PlaceCallRequest => ({ marker: { dialId, attempt }, to, ...local.callbacks() });

const settledStatus = (providerCallId: string, status: CallStatus) =>
  waitFor(`call ${providerCallId} ${status}`, async () => {
    const facts = await local.telephony.getCall(providerCallId);
    return facts.status === status ? facts : undefined;
  });

const failure = async (work: Promise<unknown>): Promise<unknown> => work.then(() => expect.unreachable("expected a failure"), (error: unknown) => error);

describe("the Twilio adapter against a local Twilio-speaking server", () => {
  it("places a call through the SDK and receives its signed callbacks in order, each carrying the marker", async () => {
    const placed = await local.telephony.placeCall(request("+14155550001", "dial-7", 2));
    expect(placed).toMatchObject({ status: "queued", providerCallId: expect.stringMatching(/^CA[0-9a-f]{32}$/) });

    await waitFor("five callbacks", () => local.receiver.received.length === 5);
    const received = local.receiver.received;
    for (const callback of received) {
      expect(validateRequest(local.server.authToken, callback.signature ?? "", callback.url, callback.params)).toBe(true);
      expect(validateRequest("another-token", callback.signature ?? "", callback.url, callback.params)).toBe(false);
      expect(callback.contentType).toBe("application/x-www-form-urlencoded");
      expect(new URL(callback.url).searchParams.get("dial")).toBe("dial-7");
      expect(new URL(callback.url).searchParams.get("attempt")).toBe("2");
      expect(callback.params.CallSid).toBe(placed.providerCallId);
    }
    expect(new URL(received[0]!.url).searchParams.get("tenant")).toBe("t1");
    const statuses = received.slice(0, 4).map((callback) => [callback.params.CallStatus, callback.params.SequenceNumber]);
    expect(statuses).toEqual([["initiated", "0"], ["ringing", "1"], ["in-progress", "2"], ["completed", "3"]]);
    expect(received[3]!.params).toMatchObject({ To: "+14155550001", From: FROM, Direction: "outbound-api", CallDuration: "2", RecordingSid: expect.stringMatching(/^RE/) });
    expect(new URL(received[4]!.url).pathname).toBe("/v1/webhooks/twilio/recording");
    expect(received[4]!.params).toMatchObject({ RecordingStatus: "completed", RecordingDuration: "2", RecordingSid: received[3]!.params.RecordingSid });
  });

  it.each([
    ["+14155550002", "busy", ["initiated", "busy"]],
    ["+14155550003", "no_answer", ["initiated", "ringing", "no-answer"]],
    ["+14155550004", "failed", ["initiated", "failed"]],
  ] as const)("a call to %s ends %s, as the number table says", async (to, status, callStatuses) => {
    const placed = await local.telephony.placeCall(request(to));
    expect(await settledStatus(placed.providerCallId, status)).toEqual({ status, durationSeconds: 0 });
    await local.server.settled();
    expect(local.receiver.received.map((callback) => callback.params.CallStatus)).toEqual(callStatuses);
  });

  it("reports an answered call's duration and recording, which downloads as 8 kHz audio behind basic auth", async () => {
    const placed = await local.telephony.placeCall(request("+14155550001"));
    const facts = await settledStatus(placed.providerCallId, "completed");
    expect(facts).toEqual({ status: "completed", durationSeconds: 2, recordingUrl: expect.stringMatching(/\/Recordings\/RE[0-9a-f]{32}$/) });

    expect((await fetch(`${facts.recordingUrl!}.wav`)).status).toBe(401);
    const recording = await local.telephony.openRecording(facts.recordingUrl!);
    expect(recording.contentType).toBe("audio/x-wav");
    const dir = await mkdtemp(path.join(tmpdir(), "callflow-telephony-test-"));
    try {
      const file = path.join(dir, "recording.wav");
      await pipeline(recording.body, createWriteStream(file));
      const probed = await probeAudio({ ffprobe: "ffprobe", timeoutMs: 30_000 }, file);
      expect(probed).toMatchObject({ sampleRateHz: 8_000, channels: 1, codec: "pcm_s16le", sizeBytes: recording.sizeBytes });
      expect(probed.durationSeconds).toBeCloseTo(2, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("429 with Retry-After is retryable after that long", async () => {
    const error = await failure(local.telephony.placeCall(request("+14155550006")));
    expect(error).toBeInstanceOf(RetryableTelephonyError);
    expect(error).toMatchObject({ code: "telephony_rate_limited", status: 429, providerCode: 20429, retryAfterMs: 3_000 });
    expect(classifyError(error)).toMatchObject({ kind: "retry", afterMs: 3_000, code: "telephony_rate_limited" });
  });

  it("a 5xx is retryable", async () => {
    const error = await failure(local.telephony.placeCall(request("+14155550005")));
    expect(error).toBeInstanceOf(RetryableTelephonyError);
    expect(error).toMatchObject({ code: "telephony_unavailable", status: 500, providerCode: 20500 });
  });

  it("a request the API never answers fails as a retryable timeout within the configured limit", async () => {
    const telephony = local.adapter({ requestTimeoutMs: 300 });
    const started = Date.now();
    const error = await failure(telephony.placeCall(request("+14155550007")));
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(RetryableTelephonyError);
    expect(error).toMatchObject({ code: "telephony_timeout" });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
  });

  it("a refused destination, a malformed number and wrong credentials are permanent, with their codes", async () => {
    expect(await failure(local.telephony.placeCall(request("+14155550009")))).toMatchObject({ code: "telephony_rejected", status: 400, providerCode: 21215 });
    const malformed = await failure(local.telephony.placeCall(request("555-0001")));
    expect(malformed).toBeInstanceOf(PermanentTelephonyError);
    expect(malformed).toMatchObject({ code: "telephony_invalid_number", status: 400, providerCode: 21211 });
    expect(classifyError(malformed)).toMatchObject({ kind: "dead", code: "telephony_invalid_number" });
    const wrongToken = local.adapter({ authToken: "not-the-token" });
    expect(await failure(wrongToken.placeCall(request("+14155550001")))).toMatchObject({ code: "telephony_unauthorized", status: 401, providerCode: 20003 });
    expect(await failure(local.telephony.getCall(`CA${"0".repeat(32)}`))).toMatchObject({ code: "telephony_not_found", providerCode: 20404 });
    expect(local.server.calls.size).toBe(0);
  });

  it("a server that refuses connections is retryable", async () => {
    const telephony = local.adapter({ apiBaseUrl: "http://127.0.0.1:1" });
    expect(await failure(telephony.placeCall(request("+14155550001")))).toMatchObject({ code: "telephony_unreachable" });
  });

  it("a call whose callbacks never arrive is still seen by getCall, recording included", async () => {
    const placed = await local.telephony.placeCall(request("+14155550008"));
    const facts = await settledStatus(placed.providerCallId, "completed");
    expect(facts.recordingUrl).toBeDefined();
    await local.server.settled();
    expect(local.receiver.received).toEqual([]);
    expect(local.server.deliveries.map((delivery) => delivery.outcome)).toEqual(["lost", "lost", "lost", "lost", "lost"]);
  });

  it("refuses to send the account's credentials to a recording URL on another origin", async () => {
    const error = await failure(local.telephony.openRecording(`${local.receiver.url}/2010-04-01/Accounts/${local.server.accountSid}/Recordings/RE1`));
    expect(error).toMatchObject({ code: "telephony_foreign_recording_url" });
  });
});

describe("findCallByMarker", () => {
  it("finds the call an attempt placed among other calls to the same number, and nothing for an attempt never placed", async () => {
    const notBefore = new Date();
    const to = "+14155550001";
    const first = await local.telephony.placeCall(request(to, "dial-a", 1));
    const other = await local.telephony.placeCall(request(to, "dial-b", 1));
    const second = await local.telephony.placeCall(request(to, "dial-a", 2));
    await local.server.settled();

    expect(await local.telephony.findCallByMarker({ marker: { dialId: "dial-a", attempt: 1 }, to, notBefore })).toEqual({ providerCallId: first.providerCallId, status: "completed" });
    expect(await local.telephony.findCallByMarker({ marker: { dialId: "dial-a", attempt: 2 }, to, notBefore })).toEqual({ providerCallId: second.providerCallId, status: "completed" });
    expect(await local.telephony.findCallByMarker({ marker: { dialId: "dial-b", attempt: 1 }, to, notBefore })).toMatchObject({ providerCallId: other.providerCallId });
    expect(await local.telephony.findCallByMarker({ marker: { dialId: "dial-a", attempt: 3 }, to, notBefore })).toBeUndefined();
    expect(await local.telephony.findCallByMarker({ marker: { dialId: "dial-a", attempt: 1 }, to: "+14155559999", notBefore })).toBeUndefined();
  });

  it("finds a call even when none of its callbacks arrived, from the requests Twilio made for it", async () => {
    const notBefore = new Date();
    const placed = await local.telephony.placeCall(request("+14155550008", "dial-lost", 1));
    await local.server.settled();
    expect(await local.telephony.findCallByMarker({ marker: { dialId: "dial-lost", attempt: 1 }, to: "+14155550008", notBefore })).toEqual({
      providerCallId: placed.providerCallId,
      status: "completed",
    });
  });

  it("will not say 'not placed' while a live call to the number has not been called back about yet", async () => {
    local.server.faults.delayMs = 60_000;
    const notBefore = new Date();
    await local.telephony.placeCall(request("+14155550001", "dial-early", 1));
    const error = await failure(local.telephony.findCallByMarker({ marker: { dialId: "dial-early", attempt: 1 }, to: "+14155550001", notBefore }));
    expect(error).toBeInstanceOf(RetryableTelephonyError);
    expect(error).toMatchObject({ code: "telephony_marker_pending" });
  });

  it("leaves out calls created before the attempt began", async () => {
    await local.telephony.placeCall(request("+14155550001", "dial-old", 1));
    await local.server.settled();
    const notBefore = new Date(Date.now() + 120_000);
    expect(await local.telephony.findCallByMarker({ marker: { dialId: "dial-old", attempt: 1 }, to: "+14155550001", notBefore })).toBeUndefined();
  });
});
