import twilio from "twilio";
import { getExpectedTwilioSignature, validateRequest } from "twilio/lib/webhooks/webhooks.js";
import { describe, expect, it } from "vitest";
import { waitFor } from "@callflow/testkit";
import { twilioSignature } from "../src/simulated/callback-line.ts";
import { TwilioHttp } from "../src/twilio/twilio-http.ts";
import type { PlaceCallRequest } from "../src/port.ts";
import { useLocalTwilio } from "./support/local-twilio.ts";

const local = useLocalTwilio();

const request = (to = "+14155550001", dialId = "dial-1"): PlaceCallRequest => ({ marker: { dialId, attempt: 1 }, to, ...local.callbacks() });

const kinds = () => local.receiver.received.map((callback) => callback.params.RecordingStatus ? "recording" : callback.params.CallStatus);

describe("the local Twilio-speaking server", () => {
  it("signs callbacks exactly as Twilio does, so the twilio package's validator accepts them", () => {
    const url = "https://callflow.example/v1/webhooks/twilio?dial=d1&attempt=2";
    const params = { CallSid: "CA123", CallStatus: "completed", CallDuration: "42", AccountSid: "AC1", Timestamp: "Tue, 31 Aug 2010 20:36:28 +0000" };
    const signature = twilioSignature("token-1", url, params);
    expect(signature).toBe(getExpectedTwilioSignature("token-1", url, params));
    expect(validateRequest("token-1", signature, url, params)).toBe(true);
    expect(validateRequest("token-1", signature, url, { ...params, CallDuration: "43" })).toBe(false);
  });

  it("answers unauthenticated requests 401 with Twilio's error body", async () => {
    const response = await fetch(`${local.server.baseUrl}/2010-04-01/Accounts/${local.server.accountSid}/Calls.json`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ code: 20003, message: "Authenticate", more_info: "https://www.twilio.com/docs/errors/20003", status: 401 });
  });

  it("pages call lists the way the SDK follows them", async () => {
    for (const dialId of ["a", "b", "c"]) await local.telephony.placeCall(request("+14155550003", dialId));
    await local.telephony.placeCall(request("+14155550002", "d"));
    const client = twilio(local.server.accountSid, local.server.authToken, { httpClient: new TwilioHttp({ apiBaseUrl: local.server.baseUrl, timeoutMs: 2_000 }), env: {} });
    const calls = await client.calls.list({ to: "+14155550003", pageSize: 1 });
    expect(calls.map((call) => call.to)).toEqual(["+14155550003", "+14155550003", "+14155550003"]);
    expect(new Set(calls.map((call) => call.sid)).size).toBe(3);
    // Newest first, as Twilio lists them.
    expect([...calls].reverse().map((call) => call.sid)).toEqual([...local.server.calls.values()].filter((call) => call.to === "+14155550003").map((call) => call.sid));
  });

  it("can lose a callback: it never arrives, though the call's events show Twilio tried", async () => {
    local.server.faults.lose = ["ringing"];
    const placed = await local.telephony.placeCall(request());
    await waitFor("the recording callback", () => kinds().includes("recording"));
    await local.server.settled();
    expect(kinds()).toEqual(["initiated", "in-progress", "completed", "recording"]);
    const events = local.server.calls.get(placed.providerCallId)!.events;
    expect(events.map((event) => event.request.parameters.CallStatus ?? "recording")).toEqual(["initiated", "ringing", "in-progress", "completed", "recording"]);
    expect(events[1]!.response.response_code).toBeNull();
  });

  it("can duplicate a callback: the same signed request twice", async () => {
    local.server.faults.duplicate = ["completed"];
    await local.telephony.placeCall(request());
    await waitFor("the recording callback", () => kinds().includes("recording"));
    expect(kinds()).toEqual(["initiated", "ringing", "in-progress", "completed", "completed", "recording"]);
    const [first, second] = local.receiver.received.filter((callback) => callback.params.CallStatus === "completed");
    expect(second).toMatchObject({ url: first!.url, signature: first!.signature, params: first!.params });
  });

  it("can deliver a call's callbacks out of order; their SequenceNumber restores it", async () => {
    local.server.faults.order = "reversed";
    await local.telephony.placeCall(request());
    await waitFor("all five callbacks", () => local.receiver.received.length === 5);
    expect(kinds()).toEqual(["recording", "completed", "in-progress", "ringing", "initiated"]);
    const statusCallbacks = local.receiver.received.filter((callback) => callback.params.CallStatus);
    const restored = [...statusCallbacks].sort((a, b) => Number(a.params.SequenceNumber) - Number(b.params.SequenceNumber));
    expect(restored.map((callback) => callback.params.CallStatus)).toEqual(["initiated", "ringing", "in-progress", "completed"]);
  });

  it("can delay callbacks", async () => {
    local.server.faults.delayMs = 250;
    const placedAt = Date.now();
    await local.telephony.placeCall(request("+14155550004"));
    await waitFor("the completed callback", () => kinds().includes("failed"));
    const [initiated, failed] = local.receiver.received;
    expect(initiated!.at - placedAt).toBeGreaterThanOrEqual(250);
    expect(failed!.at - initiated!.at).toBeGreaterThanOrEqual(250);
  });

  it("serves a recording only with the account's credentials, as WAV with or without the extension", async () => {
    const placed = await local.telephony.placeCall(request());
    await local.server.settled();
    const recording = [...local.server.recordings.values()].find((candidate) => candidate.callSid === placed.providerCallId)!;
    const url = `${local.server.baseUrl}/2010-04-01/Accounts/${local.server.accountSid}/Recordings/${recording.sid}`;
    const auth = { authorization: `Basic ${Buffer.from(`${local.server.accountSid}:${local.server.authToken}`).toString("base64")}` };
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(`${url}.wav`, { headers: { authorization: `Basic ${Buffer.from(`${local.server.accountSid}:wrong`).toString("base64")}` } })).status).toBe(401);
    for (const target of [url, `${url}.wav`]) {
      const response = await fetch(target, { headers: auth });
      expect(response.headers.get("content-type")).toBe("audio/x-wav");
      expect(Buffer.from(await response.arrayBuffer()).equals(recording.wav)).toBe(true);
    }
    expect(await (await fetch(`${url}.json`, { headers: auth })).json()).toMatchObject({ sid: recording.sid, call_sid: placed.providerCallId, status: "completed", duration: "2", media_url: url });
  });
});
