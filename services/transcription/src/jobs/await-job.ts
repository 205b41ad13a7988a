import { PermanentProviderError, RetryableProviderError } from "../speech-to-text/provider-errors.ts";
import type { AsyncSpeechToText, TranscribeContext, Transcription } from "../speech-to-text/port.ts";
import type { JobSignals } from "./job-signals.ts";

export interface PollingOptions {
  /** How long to wait for the webhook before the first poll. */
  firstPollAfterMs: number;
  /** Polls back off up to this interval. */
  maxPollIntervalMs: number;
}

export type AwaitedJob = { kind: "completed"; transcription: Transcription } | { kind: "settled_elsewhere" };

/**
 * Waits for a provider job: woken by its webhook, or polling with backoff as the fallback, never
 * past `deadlineAt` (derived from the audio's duration). A job the webhook path already stored
 * (`isSettled`) needs no more polls. Throws a provider error: provider_timeout at the deadline,
 * provider_job_failed when the provider reports the job failed.
 */
export async function awaitJob(input: {
  stt: AsyncSpeechToText;
  jobId: string;
  deadlineAt: number;
  signals: JobSignals;
  polling: PollingOptions;
  ctx: TranscribeContext;
  isSettled: () => Promise<boolean>;
  now?: () => number;
}): Promise<AwaitedJob> {
  const { stt, jobId, deadlineAt, signals, polling, ctx } = input;
  const now = input.now ?? Date.now;
  let delay = polling.firstPollAfterMs;
  for (;;) {
    const remaining = deadlineAt - now();
    if (remaining <= 0) {
      throw new RetryableProviderError("provider_timeout", `${stt.provider} job ${jobId} gave no result by its deadline (no webhook, polls pending)`);
    }
    await signals.wait(jobId, Math.min(delay, remaining), ctx.signal);
    ctx.heartbeat();
    if (await input.isSettled()) return { kind: "settled_elsewhere" };
    const state = await stt.fetch(jobId, ctx);
    if (state.status === "completed") return { kind: "completed", transcription: state.transcription };
    if (state.status === "failed") throw new PermanentProviderError("provider_job_failed", `${stt.provider} job ${jobId} failed: ${state.message}`);
    delay = Math.min(Math.max(delay * 2, 250), polling.maxPollIntervalMs);
  }
}
