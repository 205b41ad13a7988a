import { describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent, eventAsJson, UndecodableEventError, type EventInit } from "./codec.ts";
import { events, type EventKey } from "./events.ts";
import { Stage } from "./gen/callflow/events/v1/events_pb.ts";

// One filled-in sample per event: a new event without a sample fails the completeness test below.
const samples: { [K in EventKey]: EventInit<K> } = {
  chunkReady: { tenantId: "t1", callId: "c1", chunkId: "k1", chunkIndex: 3, attempt: 2 },
  chunkTranscribed: { tenantId: "t1", callId: "c1", chunkId: "k1", chunkIndex: 3, attempt: 1 },
  chunkFailed: { tenantId: "t1", callId: "c1", chunkId: "k1", chunkIndex: 7, attempt: 4, errorCode: "unsupported_audio" },
  callUploadFinished: { tenantId: "t1", callId: "c1", chunkCount: 10 },
  callTranscribed: { tenantId: "t1", callId: "c1", transcriptId: "tr1", partial: true, audioVersion: 2 },
  callMerged: { tenantId: "t1", callId: "c1", recordingId: "r1" },
  callSummarized: { tenantId: "t1", callId: "c1", summaryId: "s1" },
  callCompleted: { tenantId: "t1", callId: "c1" },
  callFailed: { tenantId: "t1", callId: "c1", stage: Stage.MERGE, errorCode: "merge_duration_mismatch" },
  stageRedriven: { tenantId: "t1", callId: "c1", stage: Stage.TRANSCRIPTION, entityId: "k1", attempt: 3 },
  providerCallbackReceived: { callbackId: "cb1", provider: "twilio" },
  notificationRequested: { tenantId: "t1", notificationId: "n1" },
  dialRequested: { tenantId: "t1", dialId: "d1", attempt: 1 },
  dialStatusChanged: { tenantId: "t1", dialId: "d1", status: "ringing" },
  dialRecordingReady: { tenantId: "t1", dialId: "d1", callId: "c1" },
  dialRecordingFetchRequested: { tenantId: "t1", dialId: "d1" },
  leadRequested: { tenantId: "t1", callId: "c1" },
  messageDeadLettered: { deadLetterId: "dl1", stream: "CALLFLOW_CALLS", consumer: "callflow_merge", subject: "callflow.calls.transcribed", streamSequence: 18446744073709551615n },
};

describe("event codec", () => {
  it("has a sample for every event in the contract", () => {
    expect(Object.keys(samples).sort()).toEqual(Object.keys(events).sort());
  });

  for (const key of Object.keys(samples) as EventKey[]) {
    it(`round-trips ${key} through its binary encoding with every field intact`, () => {
      const sample = samples[key];
      const decoded = decodeEvent(key, encodeEvent(key, sample as never)) as unknown as Record<string, unknown>;
      for (const [field, value] of Object.entries(sample)) {
        expect(decoded[field], field).toEqual(value);
      }
    });
  }

  it("rejects bytes that are not an event with an UndecodableEventError", () => {
    const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(() => decodeEvent("chunkReady", garbage)).toThrow(UndecodableEventError);
    expect(() => eventAsJson("chunkReady", garbage)).toThrow(UndecodableEventError);
  });

  it("reads an event as JSON for people: field names as declared, 64-bit integers as strings, enums by name", () => {
    expect(eventAsJson("messageDeadLettered", encodeEvent("messageDeadLettered", samples.messageDeadLettered))).toEqual({
      deadLetterId: "dl1",
      stream: "CALLFLOW_CALLS",
      consumer: "callflow_merge",
      subject: "callflow.calls.transcribed",
      streamSequence: "18446744073709551615",
    });
    expect(eventAsJson("callFailed", encodeEvent("callFailed", samples.callFailed))).toMatchObject({ stage: "STAGE_MERGE", errorCode: "merge_duration_mismatch" });
  });
});
