import { createReadStream } from "node:fs";
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import type { TranscriptionVerbose } from "openai/resources/audio/transcriptions";
import { errorForStatus, RetryableProviderError, timeoutError } from "../provider-errors.ts";
import type { ProviderPolicy } from "../provider-policy.ts";
import type { AudioFile, ProviderLimits, SyncSpeechToText, TranscribeContext, Transcription } from "../port.ts";

export interface OpenAiTranscriberOptions {
  /** `https://api.openai.com/v1`, or a self-hosted Whisper server's OpenAI-compatible base URL. */
  baseURL: string;
  apiKey: string;
  model: string;
  language?: string | undefined;
  /** OpenAI takes files up to 25 MB; self-hosted servers may differ. */
  limits: ProviderLimits;
  /** Per-request limit: this base plus `timeoutPerAudioSecondMs` × the audio's duration. */
  timeoutBaseMs: number;
  timeoutPerAudioSecondMs: number;
  policy: ProviderPolicy;
}

const PROVIDER = "openai";

/** SDK errors as provider errors: status and Retry-After kept, timeouts and resets retryable. */
const classify = (error: unknown, timeoutMs: number): unknown => {
  if (error instanceof APIConnectionTimeoutError) return timeoutError(PROVIDER, timeoutMs, error);
  if (error instanceof APIUserAbortError) return new RetryableProviderError("provider_timeout", `${PROVIDER} request cancelled`, { cause: error });
  if (error instanceof APIConnectionError) return new RetryableProviderError("provider_unavailable", `${PROVIDER} unreachable: ${error.message}`, { cause: error });
  if (error instanceof APIError && typeof error.status === "number") {
    return errorForStatus(PROVIDER, error.status, error.message.replace(/^\d+\s+/, ""), error.headers?.get("retry-after"));
  }
  return error;
};

const toTranscription = (response: TranscriptionVerbose): Transcription => ({
  text: response.text.trim(),
  segments: (response.segments ?? []).map((segment) => ({ start: segment.start, end: segment.end, text: segment.text.trim() })),
  language: response.language,
});

/** OpenAI's (or an OpenAI-compatible server's) `POST /audio/transcriptions`, `verbose_json` segments. */
export function createOpenAiTranscriber(options: OpenAiTranscriberOptions): SyncSpeechToText {
  // Retries and timeouts belong to the provider policy and the deadline below, not to the SDK.
  const client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 0, timeout: options.timeoutBaseMs });
  return {
    kind: "sync",
    provider: PROVIDER,
    limits: options.limits,
    transcribe: (audio: AudioFile, ctx: TranscribeContext) => {
      const timeoutMs = Math.round(options.timeoutBaseMs + options.timeoutPerAudioSecondMs * audio.durationSeconds);
      return options.policy.execute(async (signal) => {
        ctx.heartbeat();
        try {
          const response = await client.audio.transcriptions.create(
            {
              file: createReadStream(audio.path),
              model: options.model,
              response_format: "verbose_json",
              timestamp_granularities: ["segment"],
              ...(options.language ? { language: options.language } : {}),
            },
            { signal, timeout: timeoutMs, maxRetries: 0 },
          );
          return toTranscription(response);
        } catch (error) {
          throw classify(error, timeoutMs);
        }
      }, ctx.signal);
    },
  };
}

