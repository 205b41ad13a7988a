import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { decodeEvent, type EventKey, type Topology } from "@callflow/contracts";
import type { Db, FailurePolicy } from "@callflow/db";
import { probeAudio, runMediaTool } from "@callflow/media";
import { isLastDelivery } from "@callflow/messaging";
import { createLogger } from "@callflow/telemetry";
import type { TestBucket } from "@callflow/testkit";
import { OUTPUT_FORMATS } from "../../src/audio/output-format.ts";
import { createMergeOnTranscribed, type MergeOnTranscribedDeps } from "../../src/handler.ts";
import { createMergeStageRepo } from "../../src/recordings/merge-stage-repo.ts";
import { objectStoreRecordings } from "../../src/recordings/recording-storage.ts";

export const tools = { ffmpeg: "ffmpeg", ffprobe: "ffprobe", timeoutMs: 60_000 };

/** A chunk's audio as a recorder might send it: a tone of `seconds`, in a container of `extension`. */
export interface ChunkAudio {
  seconds: number;
  extension: "wav" | "mp3" | "ogg";
  /** Sample rate of the file; chunks of one call need not agree. */
  rate?: number;
  /** Random bytes under an audio name instead of audio. */
  corrupt?: boolean;
}

export async function audioFile(dir: string, name: string, audio: ChunkAudio): Promise<string> {
  const file = path.join(dir, `${name}.${audio.extension}`);
  if (audio.corrupt) {
    await writeFile(file, randomBytes(8_192));
    return file;
  }
  const wav = path.join(dir, `${name}-source.wav`);
  await runMediaTool("sox", ["-n", "-r", String(audio.rate ?? 16_000), "-c", "1", "-b", "16", wav, "synth", String(audio.seconds), "sine", "440"], { timeoutMs: 30_000 });
  if (audio.extension === "wav") return wav;
  await runMediaTool("ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", wav, file], { timeoutMs: 30_000 });
  return file;
}

export interface SeededCall {
  tenantId: string;
  callId: string;
  transcriptId: string;
  chunks: { id: string; index: number; objectKey: string }[];
}

/** A call as the aggregator leaves it: processing, chunks transcribed and stored, merge stage queued. */
export async function seedTranscribedCall(
  db: Db,
  storage: TestBucket,
  input: { chunks: ChunkAudio[]; failurePolicy?: FailurePolicy },
): Promise<SeededCall> {
  const dir = await mkdtemp(path.join(tmpdir(), "callflow-merge-test-"));
  const tenant = await db.tenant.create({ data: { name: "merge test" } });
  const callId = randomUUID();
  await db.call.create({
    data: { id: callId, tenantId: tenant.id, source: "recorder", status: "processing", failurePolicy: input.failurePolicy ?? "fail", expectedChunkCount: input.chunks.length, uploadFinishedAt: new Date() },
  });
  const chunks: SeededCall["chunks"] = [];
  let offset = 0;
  for (const [index, audio] of input.chunks.entries()) {
    const file = await audioFile(dir, `chunk-${index}`, audio);
    const objectKey = `tenants/${tenant.id}/calls/${callId}/v1/chunks/${String(index).padStart(5, "0")}.${audio.extension}`;
    await objectStoreRecordings(storage.store).upload(objectKey, file, `audio/${audio.extension}`);
    const chunk = await db.chunk.create({
      data: { tenantId: tenant.id, callId, index, objectKey, status: "transcribed", durationSeconds: audio.seconds, startOffsetSeconds: offset, text: `chunk ${index}` },
    });
    offset += audio.seconds;
    chunks.push({ id: chunk.id, index, objectKey });
  }
  await rm(dir, { recursive: true, force: true });
  await db.stageRun.createMany({
    data: [
      { tenantId: tenant.id, callId, stage: "transcription", status: "succeeded", finishedAt: new Date() },
      { tenantId: tenant.id, callId, stage: "merge", status: "queued" },
      { tenantId: tenant.id, callId, stage: "summary", status: "queued" },
    ],
  });
  const transcript = await db.transcript.create({ data: { tenantId: tenant.id, callId, audioVersion: 1, text: "", segments: [] } });
  return { tenantId: tenant.id, callId, transcriptId: transcript.id, chunks };
}

export const transcribedEvent = (call: SeededCall) => ({
  tenantId: call.tenantId,
  callId: call.callId,
  transcriptId: call.transcriptId,
  partial: false,
  audioVersion: 1,
});

/** The consume loop's delivery context for the handler: the consumer allows `maxDeliver` deliveries. */
export const delivery = (deliveryCount = 1, maxDeliver = 5) => ({
  deliveryCount,
  lastDelivery: isLastDelivery(deliveryCount, maxDeliver),
  working: () => undefined,
  signal: new AbortController().signal,
});

export function buildHandler(db: Db, storage: TestBucket, topology: Topology, overrides: Partial<MergeOnTranscribedDeps> = {}) {
  return createMergeOnTranscribed({
    stages: createMergeStageRepo({ db, topology }),
    storage: objectStoreRecordings(storage.store),
    tools,
    format: OUTPUT_FORMATS.flac,
    tolerance: { seconds: 0.25, fraction: 0.01 },
    deleteChunks: false,
    heartbeatMs: 200,
    staleAfterMs: 5_000,
    workDir: tmpdir(),
    logger: createLogger({ service: "merge-test", level: "silent" }),
    ...overrides,
  });
}

/** Events the test's transactions queued in the outbox, decoded. */
export async function outboxEvents<K extends EventKey>(db: Db, topology: Topology, key: K) {
  const rows = await db.outboxEvent.findMany({ where: { subject: topology.subject(key) }, orderBy: { createdAt: "asc" } });
  return rows.map((row) => decodeEvent(key, row.payload));
}

/** Downloads a stored object and probes it, as a listener's player would see it. */
export async function probeStored(storage: TestBucket, key: string) {
  const dir = await mkdtemp(path.join(tmpdir(), "callflow-merged-"));
  try {
    const file = path.join(dir, path.basename(key));
    await objectStoreRecordings(storage.store).download(key, file, new AbortController().signal);
    return await probeAudio(tools, file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
