import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { claimLease, claimWindow, keepLeaseAlive, leaseRemainingMs } from "@callflow/call-lifecycle";
import type { ChunkReady } from "@callflow/contracts";
import { ack, classifyError, PermanentError, retry, RetryableError, systemClock, type Clock, type Delivery, type Outcome } from "@callflow/messaging";
import type { Logger } from "@callflow/telemetry";
import type { AudioStore } from "./audio/audio-store.ts";
import { probeAudioFile, type AudioTools, type ProbedAudio } from "@callflow/media";
import { exceedsLimits, splitAudio } from "./audio/split-audio.ts";
import type { ChunkRecord, ChunkRepo } from "./chunks/chunk-repo.ts";
import { awaitJob, type PollingOptions } from "./jobs/await-job.ts";
import type { JobSignals } from "./jobs/job-signals.ts";
import { offsetTranscription } from "./offset-transcription.ts";
import { PermanentProviderError } from "./speech-to-text/provider-errors.ts";
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
  logger: Logger;
  /** How often the worker refreshes the chunk's heartbeat (and the message's ack deadline). */
  heartbeatMs: number;
  /** A running chunk whose heartbeat is older than this is free to claim (its worker is gone). */
  staleAfterMs: number;
  /** Delete an original once its split parts are committed (retention); default keep it. */
  deleteSplitOriginals?: boolean;
  /** Back-off for retryable failures without a Retry-After, by delivery count. */
  retryDelayMs?: (deliveryCount: number) => number;
  workDir?: string;
  /** Observes the provider's seconds per second of audio, for each chunk it transcribed here. */
  realTimeFactor?: { observe(labels: { provider: string }, value: number): void };
}

const defaultRetryDelay = (deliveryCount: number): number => Math.min(60_000, 2_000 * 2 ** (deliveryCount - 1));

const extensionOf = (key: string): string => path.extname(key).slice(1).toLowerCase() || "audio";

/**
 * What the chunk row records of a failure: retry or not as classifyError decides, with the error's
 * own message. What nobody classified (S3, Postgres, an abort) is `transcription_failed`, retryable.
 */
const classifyFailure = (error: unknown): { code: string; message: string; retryable: boolean; retryAfterMs?: number | undefined } => {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof RetryableError || error instanceof PermanentError)) return { code: "transcription_failed", message, retryable: true };
  const outcome = classifyError(error);
  return { code: outcome.code, message, retryable: outcome.kind === "retry", retryAfterMs: outcome.kind === "retry" ? outcome.afterMs : undefined };
};

/** Every retry the handler asks for goes under one code; its reason is the message. */
const retryChunk = (afterMs: number, reason: string): Outcome =>
  retry({ afterMs: Math.max(0, Math.round(afterMs)), code: "transcription_retry", message: reason });

type ChunkDelivery = Pick<Delivery, "deliveryCount" | "lastDelivery" | "signal" | "working">;

/**
 * chunkReady → the chunk's text, through the tenant's provider (pipeline.md, Chunk). The chunk row
 * is leased (claimed with a compare-and-set, kept alive by heartbeats); the result or the failure commits
 * with its event before the message is acknowledged, so a crash anywhere means a redelivery that
 * finds the row as it was left. Audio over the provider's limits is split into parts first.
 */
export const createTranscribeChunk = (deps: TranscribeChunkDeps) => {
  const clock = deps.clock ?? systemClock;
  const retryDelay = deps.retryDelayMs ?? defaultRetryDelay;
  // An ack carries no reason; why the message was acknowledged is logged instead.
  const acked = (chunkId: string, reason: string): Outcome => {
    deps.logger.info({ chunkId, reason }, "chunkReady acknowledged");
    return ack();
  };

  return async (event: Pick<ChunkReady, "chunkId">, delivery: ChunkDelivery): Promise<Outcome> => {
    const chunk = await deps.chunks.load(event.chunkId);
    if (!chunk) return acked(event.chunkId, "the chunk no longer exists");
    if (chunk.status === "transcribed" || chunk.status === "failed" || chunk.status === "superseded") return acked(chunk.id, `the chunk is already ${chunk.status}`);
    if (chunk.status === "uploading") return retryChunk(deps.heartbeatMs, "the chunk's audio is still uploading");

    const window = claimWindow(clock, deps.staleAfterMs);
    const heldFor = chunk.status === "running" ? leaseRemainingMs(chunk.heartbeatAt, window) : 0;
    if (heldFor > 0) return retryChunk(heldFor, "another worker holds the chunk");
    const stt = deps.sttFor(chunk.tenantId);
    const lease = await claimLease(deps.chunks, { chunk, provider: stt.provider }, window);
    if (!lease) return retryChunk(1_000, "the chunk changed while being claimed");
    const { attempt } = lease;

    const alive = keepLeaseAlive(lease, {
      delivery,
      everyMs: deps.heartbeatMs,
      clock,
      what: `chunk ${chunk.id}`,
      onHeartbeatFailed: (error) => deps.logger.warn({ err: error, chunkId: chunk.id }, "chunk heartbeat failed; trying again"),
    });
    let lastBeat = 0;
    const ctx: TranscribeContext = {
      signal: alive.signal,
      heartbeat: () => {
        const at = Date.now();
        if (at - lastBeat >= 1_000) {
          lastBeat = at;
          delivery.working();
        }
      },
    };
    let workDir: string | undefined;
    try {
      workDir = await mkdtemp(path.join(deps.workDir ?? tmpdir(), "callflow-chunk-"));
      return await work({ chunk, attempt, stt, ctx, workDir });
    } catch (error) {
      const failure = classifyFailure(error);
      if (alive.lost && !delivery.signal.aborted && failure.retryable) {
        const now = await deps.chunks.load(chunk.id);
        return acked(chunk.id, now?.status === "running" ? "the chunk was taken over by another attempt" : `the chunk was settled elsewhere (${now?.status ?? "deleted"})`);
      }
      // Shutdown is never the chunk's fault: it goes back to the queue whatever the delivery count.
      const lastChance = delivery.lastDelivery && !delivery.signal.aborted;
      if (!failure.retryable || lastChance) {
        const message = failure.retryable ? `${failure.message} (gave up after ${delivery.deliveryCount} deliveries)` : failure.message;
        await deps.chunks.fail(chunk, { attempt }, { code: failure.code, message }, clock.now());
        return acked(chunk.id, `the chunk failed: ${failure.code}`);
      }
      await lease
        .release(failure)
        .catch((releaseError: unknown) => deps.logger.warn({ err: releaseError, chunkId: chunk.id }, "could not release the chunk; it goes stale instead"));
      return retryChunk(failure.retryAfterMs ?? retryDelay(delivery.deliveryCount), `${failure.code}: ${failure.message}`);
    } finally {
      alive.stop();
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }
  };

  async function work(input: { chunk: ChunkRecord; attempt: number; stt: SpeechToText; ctx: TranscribeContext; workDir: string }): Promise<Outcome> {
    const { chunk, attempt, stt, ctx, workDir } = input;
    const local = path.join(workDir, `original.${extensionOf(chunk.objectKey)}`);
    await deps.audio.download(chunk.objectKey, local, ctx.signal);
    let probed: ProbedAudio;
    try {
      probed = await probeAudioFile(deps.tools, local, ctx.signal);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      throw new PermanentProviderError("unsupported_audio", `the chunk's audio cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    const audio: AudioFile = { path: local, ...probed, contentType: chunk.contentType ?? undefined };

    if (exceedsLimits(probed, stt.limits)) {
      if (chunk.parentChunkId !== null) {
        throw new PermanentProviderError("unsupported_audio", `a split part is still over ${stt.provider}'s limits`);
      }
      return split(chunk, attempt, audio, stt, ctx, workDir);
    }

    let transcription: Transcription;
    const providerStarted = performance.now();
    // A job resumed from an earlier attempt began before this clock: its time is not the provider's whole.
    let timedWhole = true;
    if (stt.kind === "sync") {
      transcription = await stt.transcribe(audio, ctx);
    } else {
      const resumable = chunk.providerJobId && chunk.provider === stt.provider ? chunk.providerJobId : undefined;
      const jobId = resumable ?? (await stt.submit(audio, ctx)).jobId;
      timedWhole = !resumable;
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
      if (result.kind === "settled_elsewhere") return acked(chunk.id, "the chunk was settled elsewhere (the provider's webhook)");
      transcription = result.transcription;
    }
    if (timedWhole && probed.durationSeconds > 0) deps.realTimeFactor?.observe({ provider: stt.provider }, (performance.now() - providerStarted) / 1000 / probed.durationSeconds);
    const stored = await deps.chunks.complete(chunk, { attempt }, offsetTranscription(transcription, chunk.startOffsetSeconds), clock.now());
    return acked(chunk.id, stored ? "transcribed" : "the chunk was settled by another path");
  }

  async function split(chunk: ChunkRecord, attempt: number, audio: AudioFile, stt: SpeechToText, ctx: TranscribeContext, workDir: string): Promise<Outcome> {
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
      return acked(chunk.id, "the chunk was settled by another path while splitting");
    }
    // Verify before destroy (invariant 8): the parts are probed and committed; only now may the original go.
    if (deps.deleteSplitOriginals) await deps.audio.delete(chunk.objectKey);
    return acked(chunk.id, `split into ${created.length} parts`);
  }
};
