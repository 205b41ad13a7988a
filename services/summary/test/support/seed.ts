import type { Db } from "@callflow/db";

export interface SeededTranscript {
  tenantId: string;
  callId: string;
  transcriptId: string;
  audioVersion: number;
}

export interface SegmentSeed {
  start: number;
  end: number;
  text: string;
}

/** A call as the aggregator leaves it on callTranscribed: processing, its transcript stored, merge and summary queued. */
export async function seedTranscribedCall(
  db: Db,
  input: { text: string; segments?: SegmentSeed[]; createdAt?: Date; tenantId?: string; redactPii?: boolean },
): Promise<SeededTranscript> {
  const tenantId = input.tenantId ?? (await db.tenant.create({ data: { name: "summary test" } })).id;
  const call = await db.call.create({
    data: { tenantId, source: "upload", status: "processing", uploadFinishedAt: new Date(), expectedChunkCount: 1, redactPii: input.redactPii ?? false, ...(input.createdAt ? { createdAt: input.createdAt } : {}) },
  });
  const transcript = await db.transcript.create({
    data: {
      tenantId,
      callId: call.id,
      audioVersion: 1,
      text: input.text,
      segments: (input.segments ?? [{ start: 0, end: 5, text: input.text }]).map((segment) => ({ ...segment, chunkIndex: 0 })),
    },
  });
  await db.stageRun.createMany({
    data: [
      { tenantId, callId: call.id, stage: "transcription", status: "succeeded", attempt: 1, finishedAt: new Date() },
      { tenantId, callId: call.id, stage: "merge", status: "queued" },
      { tenantId, callId: call.id, stage: "summary", status: "queued" },
    ],
  });
  return { tenantId, callId: call.id, transcriptId: transcript.id, audioVersion: 1 };
}

export const transcribedEvent = (seeded: SeededTranscript) => ({
  tenantId: seeded.tenantId,
  callId: seeded.callId,
  transcriptId: seeded.transcriptId,
  partial: false,
  audioVersion: seeded.audioVersion,
});
