import { randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { decodeEvent, topology, type EventKey } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { runMediaTool } from "@callflow/media";
import { isLastDelivery, type Delivery, type Outcome } from "@callflow/messaging";
import { createLogger } from "@callflow/telemetry";
import type { TestBucket } from "@callflow/testkit";
import { objectStoreAudio } from "../../src/audio/audio-store.ts";
import { createPostgresChunkRepo } from "../../src/chunks/postgres-chunk-repo.ts";
import { createJobSignals, type JobSignals } from "../../src/jobs/job-signals.ts";
import type { SpeechToText } from "../../src/speech-to-text/port.ts";
import { createTranscribeChunk, type TranscribeChunkDeps } from "../../src/transcribe-chunk.ts";

export const testTopology = topology("transcription");
export const tools = { ffmpeg: "ffmpeg", ffprobe: "ffprobe", timeoutMs: 60_000 };

/** A short tone as a WAV file: cheap audio for provider tests (the fakes do not listen). */
export async function toneFile(seconds = 1, extension = "wav"): Promise<string> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), "callflow-tone-")), `tone.${extension}`);
  await runMediaTool("sox", ["-n", "-r", "16000", "-c", "1", "-b", "16", file, "synth", String(seconds), "sine", "440"], { timeoutMs: 30_000 });
  return file;
}

export interface SeededChunk {
  tenantId: string;
  callId: string;
  chunkId: string;
  objectKey: string;
}

/** A call with one chunk whose audio is stored, as ingest leaves it. */
export async function seedChunk(
  db: Db,
  storage: TestBucket,
  input: { audioPath: string; index?: number; startOffsetSeconds?: number; contentType?: string; redactPii?: boolean },
): Promise<SeededChunk> {
  const tenant = await db.tenant.create({ data: { name: "transcription test" } });
  const callId = randomUUID();
  const extension = path.extname(input.audioPath).slice(1);
  const objectKey = `tenants/${tenant.id}/calls/${callId}/v1/chunks/${String(input.index ?? 0).padStart(5, "0")}.${extension}`;
  await objectStoreAudio(storage.store).upload(objectKey, input.audioPath, input.contentType ?? `audio/${extension}`);
  await db.call.create({ data: { id: callId, tenantId: tenant.id, source: "recorder", status: "processing", redactPii: input.redactPii ?? false } });
  const chunk = await db.chunk.create({
    data: {
      tenantId: tenant.id,
      callId,
      index: input.index ?? 0,
      objectKey,
      contentType: input.contentType ?? `audio/${extension}`,
      startOffsetSeconds: input.startOffsetSeconds ?? 0,
      status: "queued",
    },
  });
  return { tenantId: tenant.id, callId, chunkId: chunk.id, objectKey };
}

/** The consume loop's delivery context for the handler: the consumer allows `maxDeliver` deliveries. */
export const delivery = (deliveryCount = 1, maxDeliver = 5, signal = new AbortController().signal) => {
  const context = {
    deliveryCount,
    lastDelivery: isLastDelivery(deliveryCount, maxDeliver),
    signal,
    workingCalls: 0,
    working: () => {
      context.workingCalls += 1;
    },
  };
  return context;
};

export function buildHandler(
  db: Db,
  storage: TestBucket,
  stt: SpeechToText,
  overrides: Partial<TranscribeChunkDeps> & { signals?: JobSignals } = {},
) {
  const chunks = createPostgresChunkRepo({ db, topology: testTopology });
  const signals = overrides.signals ?? createJobSignals();
  const logged: { chunkId?: string; reason?: string }[] = [];
  const transcribe = createTranscribeChunk({
    chunks,
    sttFor: () => stt,
    audio: objectStoreAudio(storage.store),
    tools,
    signals,
    polling: { firstPollAfterMs: 200, maxPollIntervalMs: 1_000 },
    logger: createLogger({ service: "transcription-test", destination: { write: (line: string) => void logged.push(JSON.parse(line)) } }),
    heartbeatMs: 500,
    staleAfterMs: 5_000,
    ...overrides,
  });
  /** The outcome with why the handler decided it: a retry's message, or the reason it logged for an ack. */
  const handler = async (event: { chunkId: string }, ctx: Pick<Delivery, "deliveryCount" | "lastDelivery" | "signal" | "working">): Promise<Outcome & { reason?: string }> => {
    const from = logged.length;
    const outcome = await transcribe(event, ctx);
    const reason = outcome.kind === "retry" ? outcome.message : logged.slice(from).findLast((line) => line.chunkId === event.chunkId && line.reason)?.reason;
    return { ...outcome, reason };
  };
  return { handler, chunks, signals };
}

/** Events a test's transactions queued in the outbox, decoded. */
export async function outboxEvents<K extends EventKey>(db: Db, key: K) {
  const rows = await db.outboxEvent.findMany({ where: { subject: testTopology.subject(key) }, orderBy: { createdAt: "asc" } });
  return rows.map((row) => decodeEvent(key, row.payload));
}
