import type { DescMessage } from "@bufbuild/protobuf";
import * as pb from "./gen/callflow/events/v1/events_pb.ts";

/**
 * Every event Callflow publishes: its subject (below the namespace), the stream that holds it and its
 * protobuf schema. Subjects are grouped by the consumer that reads them because nats-server 2.9 allows
 * one filter subject per consumer: `calls.ledger.*` is everything the completeness ledger needs.
 */
export const events = {
  chunkReady: { subject: "calls.transcribe.chunk_ready", stream: "calls", schema: pb.ChunkReadySchema },
  chunkTranscribed: { subject: "calls.ledger.chunk_transcribed", stream: "calls", schema: pb.ChunkTranscribedSchema },
  chunkFailed: { subject: "calls.ledger.chunk_failed", stream: "calls", schema: pb.ChunkFailedSchema },
  callUploadFinished: { subject: "calls.ledger.upload_finished", stream: "calls", schema: pb.CallUploadFinishedSchema },
  callTranscribed: { subject: "calls.transcribed", stream: "calls", schema: pb.CallTranscribedSchema },
  callMerged: { subject: "calls.finish.merged", stream: "calls", schema: pb.CallMergedSchema },
  callSummarized: { subject: "calls.finish.summarized", stream: "calls", schema: pb.CallSummarizedSchema },
  callCompleted: { subject: "calls.outcome.completed", stream: "calls", schema: pb.CallCompletedSchema },
  callFailed: { subject: "calls.outcome.failed", stream: "calls", schema: pb.CallFailedSchema },
  stageRedriven: { subject: "calls.redriven", stream: "calls", schema: pb.StageRedrivenSchema },
  providerCallbackReceived: { subject: "calls.callback.received", stream: "calls", schema: pb.ProviderCallbackReceivedSchema },
  notificationRequested: { subject: "calls.notify.requested", stream: "calls", schema: pb.NotificationRequestedSchema },
  dialRequested: { subject: "dials.requested", stream: "dials", schema: pb.DialRequestedSchema },
  dialStatusChanged: { subject: "dials.status_changed", stream: "dials", schema: pb.DialStatusChangedSchema },
  dialRecordingReady: { subject: "dials.recording_ready", stream: "dials", schema: pb.DialRecordingReadySchema },
  dialRecordingFetchRequested: { subject: "dials.recording.fetch", stream: "dials", schema: pb.DialRecordingFetchRequestedSchema },
  leadRequested: { subject: "calls.lead.requested", stream: "calls", schema: pb.LeadRequestedSchema },
  messageDeadLettered: { subject: "deadletters.recorded", stream: "deadLetters", schema: pb.MessageDeadLetteredSchema },
} as const satisfies Record<string, { subject: string; stream: StreamKey; schema: DescMessage }>;

export type EventKey = keyof typeof events;
export type StreamKey = "calls" | "dials" | "deadLetters";
