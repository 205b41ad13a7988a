import type { PiiPolicy } from "assemblyai";
import type { ProviderMetrics } from "@callflow/telemetry";
import type { ProviderName, TranscriptionConfig } from "../config.ts";
import { createAssemblyAiTranscriber } from "./assemblyai/assemblyai-transcriber.ts";
import { createPocketsphinx } from "./local/pocketsphinx.ts";
import { createOpenAiTranscriber } from "./openai/openai-transcriber.ts";
import { createProviderPolicy, DEFAULT_POLICY, outcomeOf } from "./provider-policy.ts";
import type { AsyncSpeechToText, SpeechToText, SyncSpeechToText } from "./port.ts";

export interface Providers {
  /** The adapter for a tenant's chunks: its configured provider, or the default. */
  sttFor(tenantId: string): SpeechToText;
  /** Present when any tenant uses AssemblyAI: its webhooks complete jobs through it. */
  assemblyai: AsyncSpeechToText | undefined;
}

/** The local recognizer has no policy: each run is one request, counted here. */
const countedRuns = (stt: SyncSpeechToText, metrics: Pick<ProviderMetrics, "requests"> | undefined): SyncSpeechToText =>
  metrics
    ? {
        ...stt,
        transcribe: async (audio, ctx) => {
          try {
            const result = await stt.transcribe(audio, ctx);
            metrics.requests.inc({ provider: stt.provider, outcome: "ok" });
            return result;
          } catch (error) {
            metrics.requests.inc({ provider: stt.provider, outcome: outcomeOf(error) });
            throw error;
          }
        },
      }
    : stt;

/** One adapter (and one retry/breaker/concurrency policy) per provider in use, built at start. */
export function createProviders(config: TranscriptionConfig, metrics?: Pick<ProviderMetrics, "requests" | "breakerState">): Providers {
  const wanted = new Set<ProviderName>([config.provider, ...Object.values(config.tenantProviders)]);
  const adapters = new Map<ProviderName, SpeechToText>();
  if (wanted.has("local")) {
    adapters.set(
      "local",
      countedRuns(createPocketsphinx({
        tools: config.tools,
        binary: config.pocketsphinx.binary,
        timeoutBaseMs: 30_000,
        timeoutPerAudioSecondMs: 3_000,
        maxDurationSeconds: config.pocketsphinx.maxSeconds,
      }), metrics),
    );
  }
  if (wanted.has("openai")) {
    adapters.set(
      "openai",
      createOpenAiTranscriber({
        baseURL: config.openai.baseURL,
        apiKey: config.openai.apiKey!,
        model: config.openai.model,
        limits: { maxBytes: config.openai.maxBytes },
        timeoutBaseMs: config.openai.timeoutMs,
        timeoutPerAudioSecondMs: 500,
        policy: createProviderPolicy({ ...DEFAULT_POLICY, provider: "openai", concurrency: config.openai.concurrency, metrics }),
      }),
    );
  }
  if (wanted.has("assemblyai")) {
    const policies = config.assemblyai.redactPiiPolicies;
    adapters.set(
      "assemblyai",
      createAssemblyAiTranscriber({
        baseUrl: config.assemblyai.baseUrl,
        apiKey: config.assemblyai.apiKey!,
        webhookUrl: config.assemblyai.webhookUrl,
        webhookAuthHeaderName: config.assemblyai.webhookHeader,
        webhookAuthHeaderValue: config.assemblyai.webhookSecret,
        redactPii: policies?.length ? { policies: policies as PiiPolicy[], substitution: "entity_name" } : undefined,
        limits: { maxBytes: 2_000 * 1024 * 1024 },
        requestTimeoutMs: config.assemblyai.timeoutMs,
        jobDeadlineBaseMs: config.assemblyai.deadlineBaseMs,
        jobDeadlinePerAudioSecondMs: config.assemblyai.deadlinePerAudioSecondMs,
        policy: createProviderPolicy({ ...DEFAULT_POLICY, provider: "assemblyai", concurrency: config.assemblyai.concurrency, metrics }),
      }),
    );
  }
  const fallback = adapters.get(config.provider)!;
  const assemblyai = adapters.get("assemblyai");
  return {
    sttFor: (tenantId) => adapters.get(config.tenantProviders[tenantId] ?? config.provider) ?? fallback,
    assemblyai: assemblyai?.kind === "async" ? assemblyai : undefined,
  };
}
