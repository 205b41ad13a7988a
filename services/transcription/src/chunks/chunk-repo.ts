import type { LeaseStore } from "@callflow/call-lifecycle";
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
  /** The call's `redact_pii`: the result is stored with PII redacted (docs/design.md, "PII redaction"). */
  redactPii: boolean;
}

/** Which run of a chunk a write belongs to: a worker's attempt, or a provider job (webhook path). */
export type Owner = { attempt: number } | { jobId: string };

/**
 * A chunk leased to the provider that will transcribe it. The claim is a compare-and-set on the
 * attempt the chunk was loaded at, so a row that changed meanwhile is not claimed.
 */
export interface ChunkLeaseKey {
  chunk: Pick<ChunkRecord, "id" | "callId" | "audioVersion" | "attempt">;
  provider: string;
}

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
 * and owner: a write that lost a race changes nothing and answers false. A worker holds a chunk by
 * its lease (claim, heartbeat, release): the first claim of a call's chunks also starts the call's
 * transcription stage.
 */
export interface ChunkRepo extends LeaseStore<ChunkLeaseKey> {
  load(chunkId: string): Promise<ChunkRecord | null>;
  findByJob(provider: string, jobId: string): Promise<ChunkRecord | null>;
  /** The provider's job id, durable before the worker waits on it (a redelivery resumes it). */
  saveJob(chunkId: string, attempt: number, provider: string, jobId: string): Promise<void>;
  /** Stores the result, redacted first when the chunk's call redacts PII, whichever path (worker or webhook) it came by. */
  complete(chunk: ChunkRecord, owner: Owner, result: { text: string; segments: Segment[] }, now: Date): Promise<boolean>;
  fail(chunk: ChunkRecord, owner: Owner | "any", error: { code: string; message: string }, now: Date): Promise<boolean>;
  /** The chunk becomes `superseded`, its parts new `queued` rows announced by chunkReady: one transaction. */
  supersede(chunk: ChunkRecord, attempt: number, parts: PartInput[]): Promise<{ id: string; index: number }[] | null>;
}

/** Parts get indexes above any a client can use (ingest allows up to 99 999), grouped by original. */
export const PART_INDEX_BASE = 100_000;
export const MAX_PARTS = 1_000;
export const partIndex = (parentIndex: number, part: number): number => PART_INDEX_BASE + parentIndex * MAX_PARTS + part;
