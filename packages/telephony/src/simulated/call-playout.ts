import { setTimeout as sleep } from "node:timers/promises";
import type { CallbackLine, CallbackKind } from "./callback-line.ts";
import type { CallEnding } from "./number-table.ts";
import { API_VERSION, recordingPath, rfc2822, type SimulatedCall, type SimulatedRecording } from "./twilio-resources.ts";

export interface PlayoutDeps {
  baseUrl: string;
  /** Between one status and the next. */
  stepMs: number;
  signal: AbortSignal;
  line: CallbackLine;
  /** Makes and stores an answered call's recording; undefined when it could not be made. */
  record(call: SimulatedCall): Promise<SimulatedRecording | undefined>;
}

const SIP_RESPONSE: Record<CallEnding | "canceled", string> = { completed: "200", busy: "486", "no-answer": "487", failed: "503", canceled: "487" };

const values = (value: string | readonly string[] | undefined): string[] => (value === undefined ? [] : typeof value === "string" ? [value] : [...value]);

/**
 * Plays one accepted call from queued to its ending, as Twilio reports it: REST status changes, the
 * status callbacks the request subscribed to (only `completed` when it named none), and for an
 * answered call its recording and the recording status callback.
 */
export async function playOut(call: SimulatedCall, ending: CallEnding, callbacksArrive: boolean, deps: PlayoutDeps): Promise<void> {
  const statusCallback = values(call.params.StatusCallback)[0];
  const subscribed = new Set(values(call.params.StatusCallbackEvent).flatMap((value) => value.split(/\s+/)));
  if (subscribed.size === 0) subscribed.add("completed");
  let sequence = 0;
  const common = { AccountSid: call.accountSid, ApiVersion: API_VERSION, CallSid: call.sid, Called: call.to, Caller: call.from, Direction: "outbound-api", From: call.from, To: call.to };

  const progress = (event: Exclude<CallbackKind, "recording">, callStatus: string, extra: Record<string, string> = {}) => {
    call.dateUpdated = new Date();
    if (!statusCallback || !subscribed.has(event)) return;
    const params = { ...common, CallStatus: callStatus, CallbackSource: "call-progress-events", SequenceNumber: String(sequence++), Timestamp: rfc2822(call.dateUpdated) ?? "", ...extra };
    deps.line.send(call, { kind: event, url: statusCallback, params }, callbacksArrive);
  };
  const stepping = AbortSignal.any([deps.signal, call.hangUp.signal]);
  const step = () => sleep(deps.stepMs, undefined, { signal: stepping });

  let recording: SimulatedRecording | undefined;
  let final: CallEnding | "canceled" = ending;
  try {
    await step();
    call.startTime = new Date();
    progress("initiated", "initiated");
    if (ending === "completed" || ending === "no-answer") {
      await step();
      call.status = "ringing";
      progress("ringing", "ringing");
    }
    if (ending === "completed") {
      await step();
      call.status = "in-progress";
      progress("answered", "in-progress");
      recording = await deps.record(call);
    }
    await step();
  } catch (error) {
    // Hung up through the API: a call in progress completes (with what was recorded), any other is canceled.
    if (deps.signal.aborted || !call.hangUp.signal.aborted) throw error;
    call.startTime ??= new Date();
    final = call.status === "in-progress" ? "completed" : "canceled";
  }
  call.status = final;
  call.endTime = new Date();
  call.durationSeconds = recording ? Math.ceil(recording.durationSeconds) : 0;
  const recordingFacts = recording && {
    RecordingSid: recording.sid,
    RecordingUrl: `${deps.baseUrl}${recordingPath(call.accountSid, recording.sid)}`,
    RecordingDuration: String(Math.ceil(recording.durationSeconds)),
  };
  progress("completed", final, { CallDuration: String(call.durationSeconds), SipResponseCode: SIP_RESPONSE[final], ...recordingFacts });

  const recordingCallback = values(call.params.RecordingStatusCallback)[0];
  if (recordingFacts && recording && recordingCallback) {
    const params = {
      AccountSid: call.accountSid,
      CallSid: call.sid,
      ...recordingFacts,
      RecordingStatus: "completed",
      RecordingChannels: "1",
      RecordingStartTime: rfc2822(recording.dateCreated) ?? "",
      RecordingSource: "OutboundAPI",
      RecordingTrack: "both",
      ErrorCode: "0",
    };
    deps.line.send(call, { kind: "recording", url: recordingCallback, params }, callbacksArrive);
  }
  deps.line.end(call, callbacksArrive);
}
