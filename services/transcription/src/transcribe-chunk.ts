import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ChunkReady } from "@callflow/contracts";
import { systemClock, type Clock } from "@callflow/messaging";
import type { AudioStore } from "./audio/audio-store.ts";
import { probeAudio, type AudioTools, type ProbedAudio } from "@callflow/media";
import { exceedsLimits, splitAudio, SplitVerificationError } from "./audio/split-audio.ts";
import type { ChunkRecord, ChunkRepo } from "./chunks/chunk-repo.ts";
import { ack, retryAfter, type DeliveryContext, type Verdict } from "./delivery.ts";
import { awaitJob, type PollingOptions } from "./jobs/await-job.ts";
import type { JobSignals } from "./jobs/job-signals.ts";
import { offsetTranscription } from "./offset-transcription.ts";
import { ProviderError } from "./speech-to-text/provider-errors.ts";
import type { AudioFile, SpeechToText, TranscribeContext, Transcription } from "./speech-to-text/port.ts";

export interface TranscribeChunkDeps {
  chunks: ChunkRepo;
  /** The provider for a tenant's chunks. */
  sttFor: (tenantId: string) => SpeechToText;
  audio: AudioStore;
  tools: AudioTools;
  signals: JobSignals;
  polling: PollingOptions;
  clock?: Clock;
  /** The runtime's max_deliver: the last delivery fails the chunk instead of retrying. */
  maxDeliver: number;
  /** How often the worker refreshes the chunk's heartbeat (and the message's ack deadline). */
  heartbeatMs: number;
  /** A running chunk whose heartbeat is older than this is free to claim (its worker is gone). */
  staleAfterMs: number;
  /** Delete an original once its split parts are committed (retention); default keep it. */
  deleteSplitOriginals?: boolean;
  /** Back-off for retryable failures without a Retry-After, by delivery count. */
  retryDelayMs?: (deliveryCount: number) => number;
  workDir?: string;
}

const defaultRetryDelay = (deliveryCount: number): number => Math.min(60_000, 2_000 * 2 ** (deliveryCount - 1));

const extensionOf = (key: string): string => path.extname(key).slice(1).toLowerCase() || "audio";

const classifyFailure = (error: unknown): { code: string; message: string; retryable: boolean; retryAfterMs?: number | undefined } => {
  if (error instanceof ProviderError) return { code: error.code, message: error.message, retryable: error.retryable, retryAfterMs: error.retryAfterMs };
  if (error instanceof SplitVerificationError) return { code: error.code, message: error.message, retryable: true };
  return { code: "transcription_failed", message: error instanceof Error ? error.message : String(error), retryable: true };
};

/**
 * chunkReady → the chunk's text, through the tenant's provider (pipeline.md, Chunk). The chunk row
 * is claimed with a compare-and-set and kept alive by heartbeats; the result or the failure commits
 * with its event before the message is acknowledged, so a crash anywhere means a redelivery that
 * finds the row as it was left. Audio over the provider's limits is split into parts first.
 */
export const createTranscribeChunk = (deps: TranscribeChunkDeps) => {
  const clock = deps.clock ?? systemClock;
  const retryDelay = deps.retryDelayMs ?? defaultRetryDelay;

  return async (event: Pick<ChunkReady, "chunkId">, delivery: DeliveryContext): Promise<Verdict> => {
    const chunk = await deps.chunks.load(event.chunkId);
    if (!chunk) return ack("the chunk no longer exists");
    if (chunk.status === "transcribed" || chunk.status === "failed" || chunk.status === "superseded") return ack(`the chunk is already ${chunk.status}`);
    if (chunk.status === "uploading") return retryAfter(deps.heartbeatMs, "the chunk's audio is still uploading");

    const now = clock.now();
    if (chunk.status === "running" && chunk.heartbeatAt && now.getTime() - chunk.heartbeatAt.getTime() < deps.staleAfterMs) {
      return retryAfter(deps.staleAfterMs - (now.getTime() - chunk.heartbeatAt.getTime()), "another worker holds the chunk");
    }
    const stt = deps.sttFor(chunk.tenantId);
    const attempt = await deps.chunks.claim(chunk, { provider: stt.provider, now, staleBefore: new Date(now.getTime() - deps.staleAfterMs) });
    if (attempt === null) return retryAfter(1_000, "the chunk changed while being claimed");

    const abort = new AbortController();
    const onShutdown = () => abort.abort(new Error("the worker is shutting down"));
    delivery.signal.addEventListener("abort", onShutdown, { once: true });
    let lastBeat = 0;
    const beat = async () => {
      delivery.working();
      if (!(await deps.chunks.heartbeat(chunk.id, attempt, clock.now()).catch(() => true))) {
        abort.abort(new Error("the chunk was taken over by another attempt"));
      }
    };
    const timer = setInterval(() => void beat(), deps.heartbeatMs);
    const ctx: TranscribeContext = {
      signal: abort.signal,
      heartbeat: () => {
        const at = Date.now();
        if (at - lastBeat >= 1_000) {
          lastBeat = at;
          delivery.working();
        }
      },
    };
    const workDir = await mkdtemp(path.join(deps.workDir ?? tmpdir(), "callflow-chunk-"));
    try {
      return await work({ chunk, attempt, stt, ctx, workDir });
    } catch (error) {
      const failure = classifyFailure(error);
      if (abort.signal.aborted && !delivery.signal.aborted && failure.retryable) {
        const now = await deps.chunks.load(chunk.id);
        return ack(now?.status === "running" ? "the chunk was taken over by another attempt" : `the chunk was settled elsewhere (${now?.status ?? "deleted"})`);
      }
      // Shutdown is never the chunk's fault: it goes back to the queue whatever the delivery count.
      const lastChance = delivery.deliveryCount >= deps.maxDeliver && !delivery.signal.aborted;
      if (!failure.retryable || lastChance) {
        const message = failure.retryable ? `${failure.message} (gave up after ${delivery.deliveryCount} deliveries)` : failure.message;
        await deps.chunks.fail(chunk, { attempt }, { code: failure.code, message }, clock.now());
        return ack(`the chunk failed: ${failure.code}`);
      }
      await deps.chunks.release(chunk.id, attempt, failure);
      return retryAfter(failure.retryAfterMs ?? retryDelay(delivery.deliveryCount), `${failure.code}: ${failure.message}`);
    } finally {
      clearInterval(timer);
      delivery.signal.removeEventListener("abort", onShutdown);
      await rm(workDir, { recursive: true, force: true });
    }
  };

  async function work(input: { chunk: ChunkRecord; attempt: number; stt: SpeechToText; ctx: TranscribeContext; workDir: string }): Promise<Verdict> {
    const { chunk, attempt, stt, ctx, workDir } = input;
    const local = path.join(workDir, `original.${extensionOf(chunk.objectKey)}`);
    await deps.audio.download(chunk.objectKey, local, ctx.signal);
    let probed: ProbedAudio;
    try {
      probed = await probeAudio(deps.tools, local, ctx.signal);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      throw new ProviderError("unsupported_audio", `the chunk's audio cannot be read: ${error instanceof Error ? error.message : String(error)}`, false);
    }
    const audio: AudioFile = { path: local, ...probed, contentType: chunk.contentType ?? undefined };

    if (exceedsLimits(probed, stt.limits)) {
      if (chunk.parentChunkId !== null) {
        throw new ProviderError("unsupported_audio", `a split part is still over ${stt.provider}'s limits`, false);
      }
      return split(chunk, attempt, audio, stt, ctx, workDir);
    }

    let transcription: Transcription;
    if (stt.kind === "sync") {
      transcription = await stt.transcribe(audio, ctx);
    } else {
      const resumable = chunk.providerJobId && chunk.provider === stt.provider ? chunk.providerJobId : undefined;
      const jobId = resumable ?? (await stt.submit(audio, ctx)).jobId;
      // Durable before waiting: a redelivery after a crash resumes this job instead of paying twice.
      if (!resumable) await deps.chunks.saveJob(chunk.id, attempt, stt.provider, jobId);
      const result = await awaitJob({
        stt,
        jobId,
        deadlineAt: Date.now() + stt.jobDeadlineMs(probed.durationSeconds),
        signals: deps.signals,
        polling: deps.polling,
        ctx,
        isSettled: async () => (await deps.chunks.load(chunk.id))?.status !== "running",
      });
      if (result.kind === "settled_elsewhere") return ack("the chunk was settled elsewhere (the provider's webhook)");
      transcription = result.transcription;
    }
    const stored = await deps.chunks.complete(chunk, { attempt }, offsetTranscription(transcription, chunk.startOffsetSeconds), clock.now());
    return ack(stored ? "transcribed" : "the chunk was settled by another path");
  }

  async function split(chunk: ChunkRecord, attempt: number, audio: AudioFile, stt: SpeechToText, ctx: TranscribeContext, workDir: string): Promise<Verdict> {
    const extension = extensionOf(chunk.objectKey);
    const outDir = path.join(workDir, "parts");
    await mkdir(outDir);
    const parts = await splitAudio({
      tools: deps.tools,
      file: { ...audio, formatName: extension },
      limits: stt.limits,
      outDir,
      extension,
      signal: ctx.signal,
    });
    const base = chunk.objectKey.slice(0, chunk.objectKey.length - path.extname(chunk.objectKey).length);
    const stored = [];
    for (const [n, part] of parts.entries()) {
      const key = `${base}.a${attempt}.part-${String(n).padStart(4, "0")}.${extension}`;
      await deps.audio.upload(key, part.path, chunk.contentType);
      ctx.heartbeat();
      stored.push({
        objectKey: key,
        sizeBytes: part.sizeBytes,
        durationSeconds: part.durationSeconds,
        startOffsetSeconds: chunk.startOffsetSeconds + part.offsetSeconds,
        contentType: chunk.contentType,
      });
    }
    const created = await deps.chunks.supersede(chunk, attempt, stored);
    if (!created) {
      await Promise.allSettled(stored.map((part) => deps.audio.delete(part.objectKey)));
      return ack("the chunk was settled by another path while splitting");
    }
    // Verify before destroy (invariant 8): the parts are probed and committed; only now may the original go.
    if (deps.deleteSplitOriginals) await deps.audio.delete(chunk.objectKey);
    return ack(`split into ${created.length} parts`);
  }
};
