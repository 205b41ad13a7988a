import type { Segment } from "../speech-to-text/port.ts";

export type ChunkStatus = "uploading" | "queued" | "running" | "transcribed" | "failed" | "superseded";

export interface ChunkRecord {
  id: string;
  tenantId: string;
  callId: string;
  audioVersion: number;
  index: number;
  parentChunkId: string | null;
  objectKey: string;
  contentType: string | null;
  sizeBytes: number | null;
  durationSeconds: number | null;
  startOffsetSeconds: number;
  status: ChunkStatus;
  attempt: number;
  heartbeatAt: Date | null;
  provider: string | null;
  providerJobId: string | null;
}

/** Which run of a chunk a write belongs to: a worker's attempt, or a provider job (webhook path). */
export type Owner = { attempt: number } | { jobId: string };

/** A verified part of a split chunk, stored and ready to become a chunk row. */
export interface PartInput {
  objectKey: string;
  sizeBytes: number;
  durationSeconds: number;
  /** Seconds into the call. */
  startOffsetSeconds: number;
  contentType: string | null;
}

/**
 * The chunk rows the transcription worker owns. Every terminal write commits with its event
 * (chunkTranscribed, chunkFailed, chunkReady for parts) and is a compare-and-set on the row's status
 * and owner: a write that lost a race changes nothing and answers false.
 */
export interface ChunkRepo {
  load(chunkId: string): Promise<ChunkRecord | null>;
  findByJob(provider: string, jobId: string): Promise<ChunkRecord | null>;
  /** queued (or running with a heartbeat older than `staleBefore`) → running; the new attempt, or null. */
  claim(chunk: ChunkRecord, input: { provider: string; now: Date; staleBefore: Date }): Promise<number | null>;
  /** False when the chunk is no longer this attempt's. */
  heartbeat(chunkId: string, attempt: number, now: Date): Promise<boolean>;
  /** The provider's job id, durable before the worker waits on it (a redelivery resumes it). */
  saveJob(chunkId: string, attempt: number, provider: string, jobId: string): Promise<void>;
  complete(chunk: ChunkRecord, owner: Owner, result: { text: string; segments: Segment[] }, now: Date): Promise<boolean>;
  fail(chunk: ChunkRecord, owner: Owner | "any", error: { code: string; message: string }, now: Date): Promise<boolean>;
  /** running → queued with the error recorded, for the redelivery to pick up. */
  release(chunkId: string, attempt: number, error: { code: string; message: string }): Promise<void>;
  /** The chunk becomes `superseded`, its parts new `queued` rows announced by chunkReady: one transaction. */
  supersede(chunk: ChunkRecord, attempt: number, parts: PartInput[]): Promise<{ id: string; index: number }[] | null>;
}

/** Parts get indexes above any a client can use (ingest allows up to 99 999), grouped by original. */
export const PART_INDEX_BASE = 100_000;
export const MAX_PARTS = 1_000;
export const partIndex = (parentIndex: number, part: number): number => PART_INDEX_BASE + parentIndex * MAX_PARTS + part;
