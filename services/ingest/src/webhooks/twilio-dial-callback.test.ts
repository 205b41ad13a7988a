import { describe, expect, it } from "vitest";
import { dialCallbackOf } from "./twilio-dial-callback.ts";

const dialId = "6f1d1c8e-64a4-4bde-9a0c-2b8f3f1d9e21";
const url = `https://callflow.example/v1/webhooks/twilio?dial=${dialId}&attempt=3`;

describe("reading a dial's Twilio callback", () => {
  it("takes the dial and attempt from the URL's marker and Twilio's status in the dial's words", () => {
    expect(dialCallbackOf(url, { CallSid: "CA1", CallStatus: "no-answer", CallDuration: "0", Timestamp: "Mon, 07 Dec 2026 10:00:03 +0000" })).toEqual({
      dialId,
      attempt: 3,
      status: "no_answer",
      providerCallId: "CA1",
      durationSeconds: 0,
      occurredAt: "2026-12-07T10:00:03.000Z",
    });
    expect(dialCallbackOf(url, { CallSid: "CA1", CallStatus: "initiated" })).toMatchObject({ status: "placed" });
    expect(dialCallbackOf(url, { CallSid: "CA1", RecordingStatus: "completed", RecordingUrl: "https://api.twilio.com/r" })).toMatchObject({ status: "recording_ready", recordingUrl: "https://api.twilio.com/r" });
  });

  it("announces nothing for a callback without a marker, a failed recording or a status Twilio has not documented", () => {
    expect(dialCallbackOf("https://callflow.example/v1/webhooks/twilio", { CallSid: "CA1", CallStatus: "completed" })).toBeUndefined();
    expect(dialCallbackOf("https://callflow.example/v1/webhooks/twilio?dial=not-a-uuid&attempt=1", { CallSid: "CA1", CallStatus: "completed" })).toBeUndefined();
    expect(dialCallbackOf(url, { CallSid: "CA1", RecordingStatus: "failed" })).toBeUndefined();
    expect(dialCallbackOf(url, { CallSid: "CA1", CallStatus: "teleported" })).toBeUndefined();
  });
});
