import { systemClock, type Clock } from "@callflow/messaging";
import type { ChunkRepo } from "./chunks/chunk-repo.ts";
import type { JobSignals } from "./jobs/job-signals.ts";
import { offsetTranscription } from "./offset-transcription.ts";
import type { AsyncSpeechToText } from "./speech-to-text/port.ts";

export type WebhookResult =
  | "woke_waiting_worker"
  | "unknown_job"
  | "already_settled"
  | "pending"
  | "transcribed"
  | "failed";

/**
 * A provider said job `jobId` is done (AssemblyAI's webhook, recorded by ingest and forwarded as an
 * event). A worker of this process waiting on the job is woken and stores the result itself;
 * otherwise the result is fetched and stored here. Either way the write is a compare-and-set on the
 * chunk's job id, so a webhook delivered three times, or racing the worker's own poll, has one effect.
 */
export const createCompleteFromWebhook = (deps: { chunks: ChunkRepo; stt: AsyncSpeechToText; signals: JobSignals; clock?: Clock }) => {
  const clock = deps.clock ?? systemClock;
  return async (jobId: string, signal: AbortSignal = new AbortController().signal): Promise<WebhookResult> => {
    if (deps.signals.notify(jobId)) return "woke_waiting_worker";
    const chunk = await deps.chunks.findByJob(deps.stt.provider, jobId);
    if (!chunk) return "unknown_job";
    if (chunk.status !== "running" && chunk.status !== "queued") return "already_settled";
    const state = await deps.stt.fetch(jobId, { signal, heartbeat: () => {} });
    if (state.status === "pending") return "pending";
    if (state.status === "failed") {
      const failed = await deps.chunks.fail(chunk, { jobId }, { code: "provider_job_failed", message: `${deps.stt.provider} job ${jobId} failed: ${state.message}` }, clock.now());
      return failed ? "failed" : "already_settled";
    }
    const stored = await deps.chunks.complete(chunk, { jobId }, offsetTranscription(state.transcription, chunk.startOffsetSeconds), clock.now());
    return stored ? "transcribed" : "already_settled";
  };
};
