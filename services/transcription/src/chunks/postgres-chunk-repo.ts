import type { Topology } from "@callflow/contracts";
import type { Db, Prisma } from "@callflow/db";
import { commitWithEvents, type OutboxRelay } from "@callflow/messaging";
import { redactTranscription } from "../redaction/redact-pii.ts";
import { partIndex, type ChunkRecord, type ChunkRepo, type Owner } from "./chunk-repo.ts";

const select = {
  id: true,
  tenantId: true,
  callId: true,
  audioVersion: true,
  index: true,
  parentChunkId: true,
  objectKey: true,
  contentType: true,
  sizeBytes: true,
  durationSeconds: true,
  startOffsetSeconds: true,
  status: true,
  attempt: true,
  heartbeatAt: true,
  provider: true,
  providerJobId: true,
  call: { select: { redactPii: true } },
} as const satisfies Prisma.ChunkSelect;

type Row = Prisma.ChunkGetPayload<{ select: typeof select }>;

const toRecord = ({ call, ...row }: Row): ChunkRecord => ({ ...row, sizeBytes: row.sizeBytes === null ? null : Number(row.sizeBytes), redactPii: call.redactPii });

const ownerWhere = (owner: Owner): Prisma.ChunkWhereInput => ("attempt" in owner ? { attempt: owner.attempt } : { providerJobId: owner.jobId });

const MAX_ERROR_MESSAGE = 2_000;

export function createPostgresChunkRepo(deps: { db: Db; topology: Topology; relay?: Pick<OutboxRelay, "publishNow"> }): ChunkRepo {
  const { db, topology, relay } = deps;
  const commit = <T>(work: Parameters<typeof commitWithEvents<T>>[2]) => commitWithEvents(db, topology, work, relay);

  return {
    load: async (chunkId) => {
      const row = await db.chunk.findUnique({ where: { id: chunkId }, select });
      return row && toRecord(row);
    },

    findByJob: async (provider, jobId) => {
      const row = await db.chunk.findFirst({ where: { providerJobId: jobId, provider }, select });
      return row && toRecord(row);
    },

    claim: async ({ chunk, provider }, { now, staleBefore }) => {
      const { count } = await db.chunk.updateMany({
        where: {
          id: chunk.id,
          attempt: chunk.attempt,
          OR: [{ status: "queued" }, { status: "running", OR: [{ heartbeatAt: null }, { heartbeatAt: { lt: staleBefore } }] }],
        },
        data: { status: "running", attempt: { increment: 1 }, startedAt: now, heartbeatAt: now, provider },
      });
      if (count !== 1) return null;
      // The call's transcription stage runs from its first chunk's claim: its timeline says so.
      await db.stageRun.updateMany({
        where: { callId: chunk.callId, audioVersion: chunk.audioVersion, stage: "transcription", status: "queued" },
        data: { status: "running", attempt: 1, startedAt: now, heartbeatAt: now },
      });
      return chunk.attempt + 1;
    },

    heartbeat: async ({ chunk }, attempt, now) => {
      const { count } = await db.chunk.updateMany({ where: { id: chunk.id, attempt, status: "running" }, data: { heartbeatAt: now } });
      return count === 1;
    },

    saveJob: async (chunkId, attempt, provider, jobId) => {
      const { count } = await db.chunk.updateMany({ where: { id: chunkId, attempt, status: "running" }, data: { provider, providerJobId: jobId } });
      if (count !== 1) throw new Error(`chunk ${chunkId} is no longer attempt ${attempt}'s; provider job ${jobId} not recorded`);
    },

    complete: (chunk, owner, transcribed, now) =>
      commit(async (tx, emit) => {
        // Redacted before anything is stored: the chunk's text is what the aggregator assembles.
        const result = chunk.redactPii ? redactTranscription(transcribed) : transcribed;
        const { count } = await tx.chunk.updateMany({
          // A job's result may land while its chunk waits in the queue for a retry: still this job's.
          where: { id: chunk.id, status: "attempt" in owner ? "running" : { in: ["queued", "running"] }, ...ownerWhere(owner) },
          data: {
            status: "transcribed",
            text: result.text,
            segments: result.segments as unknown as Prisma.InputJsonValue,
            finishedAt: now,
            heartbeatAt: now,
            errorCode: null,
            errorMessage: null,
          },
        });
        if (count !== 1) return false;
        const { attempt } = await tx.chunk.findUniqueOrThrow({ where: { id: chunk.id }, select: { attempt: true } });
        await emit("chunkTranscribed", { tenantId: chunk.tenantId, callId: chunk.callId, chunkId: chunk.id, chunkIndex: chunk.index, attempt });
        return true;
      }),

    fail: (chunk, owner, error, now) =>
      commit(async (tx, emit) => {
        const { count } = await tx.chunk.updateMany({
          where: { id: chunk.id, status: { in: ["queued", "running"] }, ...(owner === "any" ? {} : ownerWhere(owner)) },
          data: { status: "failed", errorCode: error.code, errorMessage: error.message.slice(0, MAX_ERROR_MESSAGE), finishedAt: now },
        });
        if (count !== 1) return false;
        const { attempt } = await tx.chunk.findUniqueOrThrow({ where: { id: chunk.id }, select: { attempt: true } });
        await emit("chunkFailed", {
          tenantId: chunk.tenantId,
          callId: chunk.callId,
          chunkId: chunk.id,
          chunkIndex: chunk.index,
          attempt,
          errorCode: error.code,
        });
        return true;
      }),

    // No heartbeat on a queued chunk, as the reaper's re-drive leaves it: nobody owns it.
    release: async ({ chunk }, attempt, error) => {
      await db.chunk.updateMany({
        where: { id: chunk.id, attempt, status: "running" },
        data: { status: "queued", heartbeatAt: null, errorCode: error.code, errorMessage: error.message.slice(0, MAX_ERROR_MESSAGE) },
      });
    },

    supersede: (chunk, attempt, parts) =>
      commit(async (tx, emit) => {
        const { count } = await tx.chunk.updateMany({
          where: { id: chunk.id, attempt, status: "running" },
          data: { status: "superseded", finishedAt: new Date(), errorCode: null, errorMessage: null },
        });
        if (count !== 1) return null;
        const created: { id: string; index: number }[] = [];
        for (const [n, part] of parts.entries()) {
          const row = await tx.chunk.create({
            data: {
              tenantId: chunk.tenantId,
              callId: chunk.callId,
              audioVersion: chunk.audioVersion,
              index: partIndex(chunk.index, n),
              parentChunkId: chunk.id,
              objectKey: part.objectKey,
              contentType: part.contentType,
              sizeBytes: BigInt(part.sizeBytes),
              durationSeconds: part.durationSeconds,
              startOffsetSeconds: part.startOffsetSeconds,
              status: "queued",
            },
            select: { id: true, index: true },
          });
          created.push(row);
          await emit("chunkReady", { tenantId: chunk.tenantId, callId: chunk.callId, chunkId: row.id, chunkIndex: row.index, attempt: 0 });
        }
        return created;
      }),
  };
}
