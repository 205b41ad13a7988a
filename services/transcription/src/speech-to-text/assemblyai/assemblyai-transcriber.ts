import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import type { PiiPolicy, SubstitutionPolicy, Transcript, TranscriptParams, UploadedFile } from "assemblyai";
import { errorForStatus, RetryableProviderError, timeoutError } from "../provider-errors.ts";
import type { ProviderPolicy } from "../provider-policy.ts";
import type { AsyncSpeechToText, AudioFile, JobState, ProviderLimits, TranscribeContext } from "../port.ts";
import { wordsToSegments } from "./words-to-segments.ts";

export interface AssemblyAiOptions {
  /** `https://api.assemblyai.com`, or a local server speaking its API. */
  baseUrl: string;
  apiKey: string;
  /** Where AssemblyAI posts completion (ingest's `/v1/webhooks/assemblyai`); unset: polling only. */
  webhookUrl?: string | undefined;
  webhookAuthHeaderName: string;
  webhookAuthHeaderValue?: string | undefined;
  redactPii?: { policies: PiiPolicy[]; substitution: SubstitutionPolicy } | undefined;
  speechModel?: string | undefined;
  limits: ProviderLimits;
  /** One HTTP request (an upload counts as one). */
  requestTimeoutMs: number;
  /** A job may take this base plus `perAudioSecondMs` × the audio's duration before the attempt gives up. */
  jobDeadlineBaseMs: number;
  jobDeadlinePerAudioSecondMs: number;
  policy: ProviderPolicy;
}

const PROVIDER = "assemblyai";

/**
 * AssemblyAI through its REST API, typed by the official SDK's definitions. The SDK's own client is
 * not used for the calls: it drops the HTTP status and Retry-After and takes no abort signal, and
 * both are what the retry policy and the deadlines work from.
 */
export function createAssemblyAiTranscriber(options: AssemblyAiOptions): AsyncSpeechToText {
  const request = async <T>(path: string, init: RequestInit & { duplex?: "half" }, signal: AbortSignal, timeoutMs = options.requestTimeoutMs): Promise<T> => {
    const deadline = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${options.baseUrl}${path}`, {
        ...init,
        headers: { authorization: options.apiKey, ...(init.headers as Record<string, string>) },
        signal: AbortSignal.any([signal, deadline]),
      });
    } catch (error) {
      if (deadline.aborted) throw timeoutError(PROVIDER, timeoutMs, error);
      if (signal.aborted) throw new RetryableProviderError("provider_timeout", `${PROVIDER} request cancelled`, { cause: error });
      throw new RetryableProviderError("provider_unavailable", `${PROVIDER} unreachable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const text = await response.text().catch((error: unknown) => {
      if (deadline.aborted) throw timeoutError(PROVIDER, timeoutMs, error);
      throw new RetryableProviderError("provider_unavailable", `${PROVIDER} answer cut short`, { cause: error });
    });
    if (!response.ok) {
      let detail = text;
      try {
        detail = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the body as it is
      }
      throw errorForStatus(PROVIDER, response.status, detail || response.statusText, response.headers.get("retry-after"));
    }
    return JSON.parse(text) as T;
  };

  return {
    kind: "async",
    provider: PROVIDER,
    limits: options.limits,
    jobDeadlineMs: (durationSeconds) => Math.round(options.jobDeadlineBaseMs + options.jobDeadlinePerAudioSecondMs * durationSeconds),

    async submit(audio: AudioFile, ctx: TranscribeContext) {
      // Upload and submission retry separately: a retried submission never uploads twice.
      const uploadTimeoutMs = Math.round(options.requestTimeoutMs + audio.sizeBytes / 50_000);
      const uploaded = await options.policy.execute(
        (signal) =>
          request<UploadedFile>(
            "/v2/upload",
            {
              method: "POST",
              headers: { "content-type": "application/octet-stream" },
              body: Readable.toWeb(createReadStream(audio.path)) as ReadableStream,
              duplex: "half",
            },
            signal,
            uploadTimeoutMs,
          ),
        ctx.signal,
      );
      ctx.heartbeat();
      const params: TranscriptParams = {
        audio_url: uploaded.upload_url,
        ...(options.speechModel ? { speech_model: options.speechModel as TranscriptParams["speech_model"] } : {}),
        ...(options.webhookUrl
          ? {
              webhook_url: options.webhookUrl,
              ...(options.webhookAuthHeaderValue
                ? { webhook_auth_header_name: options.webhookAuthHeaderName, webhook_auth_header_value: options.webhookAuthHeaderValue }
                : {}),
            }
          : {}),
        ...(options.redactPii
          ? { redact_pii: true, redact_pii_policies: options.redactPii.policies, redact_pii_sub: options.redactPii.substitution }
          : {}),
      };
      const transcript = await options.policy.execute(
        (signal) => request<Transcript>("/v2/transcript", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(params) }, signal),
        ctx.signal,
      );
      return { jobId: transcript.id };
    },

    async fetch(jobId: string, ctx: TranscribeContext): Promise<JobState> {
      const transcript = await options.policy.execute(
        (signal) => request<Transcript>(`/v2/transcript/${encodeURIComponent(jobId)}`, { method: "GET" }, signal),
        ctx.signal,
      );
      if (transcript.status === "error") return { status: "failed", message: transcript.error ?? "the transcription job failed" };
      if (transcript.status !== "completed") return { status: "pending" };
      return {
        status: "completed",
        transcription: {
          text: (transcript.text ?? "").trim(),
          segments: wordsToSegments(transcript.words ?? []),
          ...(transcript.language_code ? { language: transcript.language_code } : {}),
        },
      };
    },
  };
}
