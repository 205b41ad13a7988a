import { randomUUID } from "node:crypto";
import type { Db, FailurePolicy } from "@callflow/db";

export interface SeededCall {
  tenantId: string;
  callId: string;
  chunkIds: string[];
}

/** Calls recorded chunk by chunk: rows as ingest leaves them, chunks `running` at a transcription worker. */
export async function seedRecorderCalls(
  db: Db,
  input: { calls: number; chunks: number; failurePolicy?: FailurePolicy; chunkSeconds?: number },
): Promise<SeededCall[]> {
  const tenant = await db.tenant.create({ data: { name: "ledger test" } });
  const seconds = input.chunkSeconds ?? 10;
  const seeded: SeededCall[] = [];
  for (let c = 0; c < input.calls; c++) {
    const callId = randomUUID();
    const chunkIds = Array.from({ length: input.chunks }, () => randomUUID());
    seeded.push({ tenantId: tenant.id, callId, chunkIds });
  }
  await db.call.createMany({
    data: seeded.map(({ callId }) => ({
      id: callId,
      tenantId: tenant.id,
      source: "recorder" as const,
      status: "uploading" as const,
      failurePolicy: input.failurePolicy ?? "fail",
    })),
  });
  await db.chunk.createMany({
    data: seeded.flatMap(({ callId, chunkIds }) =>
      chunkIds.map((id, index) => ({
        id,
        tenantId: tenant.id,
        callId,
        index,
        objectKey: `tenants/${tenant.id}/calls/${callId}/v1/chunks/${index}.wav`,
        durationSeconds: seconds,
        startOffsetSeconds: index * seconds,
        status: "running" as const,
        attempt: 1,
      })),
    ),
  });
  return seeded;
}

/** What ingest's recorder finish does to the rows, under the call's row lock as ingest takes it. */
export async function finishUpload(db: Db, call: SeededCall): Promise<void> {
  await db.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ status: string }[]>`SELECT status::text AS status FROM calls WHERE id = ${call.callId}::uuid FOR UPDATE`;
    // Like ingest: a call no longer uploading (already failed by the ledger) is answered as it is.
    if (row?.status !== "uploading") return;
    await tx.call.update({
      where: { id: call.callId },
      data: { status: "processing", uploadFinishedAt: new Date(), expectedChunkCount: call.chunkIds.length },
    });
    await tx.stageRun.createMany({
      data: [{ tenantId: call.tenantId, callId: call.callId, stage: "transcription", status: "queued" }],
      skipDuplicates: true,
    });
  });
}

export const chunkText = (callId: string, index: number): string => `call ${callId.slice(0, 8)} chunk ${index} said this`;

/** What the transcription worker commits for a chunk: text, call-relative segments, terminal status. */
export async function markTranscribed(db: Db, chunkId: string): Promise<void> {
  const chunk = await db.chunk.findUniqueOrThrow({ where: { id: chunkId } });
  const start = chunk.startOffsetSeconds;
  await db.chunk.updateMany({
    where: { id: chunkId, status: "running" },
    data: {
      status: "transcribed",
      finishedAt: new Date(),
      text: chunkText(chunk.callId, chunk.index),
      segments: [
        { start, end: start + 4, text: `chunk ${chunk.index} first` },
        { start: start + 5, end: start + 9, text: `chunk ${chunk.index} second` },
      ],
    },
  });
}

export async function markFailed(db: Db, chunkId: string, errorCode: string, errorMessage: string): Promise<void> {
  await db.chunk.updateMany({
    where: { id: chunkId, status: "running" },
    data: { status: "failed", finishedAt: new Date(), errorCode, errorMessage },
  });
}
