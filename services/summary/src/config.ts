import { z } from "zod";
import { ConfigError, field, parseConfig, type Env, serviceConnection, serviceFields, workerFields } from "@callflow/config";

export const SUMMARY_PROVIDERS = ["extractive", "openai"] as const;
export type SummaryProviderName = (typeof SUMMARY_PROVIDERS)[number];

// Concurrency: LLM calls take seconds each, a few at once per process, more processes for more.
// Heartbeat: the stage row's period; a running row whose heartbeat is 3× older is taken over.
const worker = workerFields("SUMMARY", { opsPort: 9105, concurrency: 4, ackWaitMs: 60_000, maxDeliver: 5, heartbeatMs: 10_000 });

/** Every variable the summary service reads; the README's configuration table lists them. */
const schema = z.object({
  ...serviceFields({ databasePoolSize: 5 }),
  ...worker.fields,
  CALLFLOW_SUMMARY_PROVIDER: field.oneOf(SUMMARY_PROVIDERS).default("extractive"),
  CALLFLOW_SUMMARY_OPENAI_BASE_URL: field.url({ protocols: ["http", "https"] }).default("https://api.openai.com/v1"),
  CALLFLOW_SUMMARY_OPENAI_API_KEY: field.optionalSecret(),
  CALLFLOW_SUMMARY_OPENAI_MODEL: z.string().min(1).default("gpt-4o-mini"),
  CALLFLOW_SUMMARY_OPENAI_TIMEOUT_MS: field.milliseconds().default(60_000),
  /** Requests per summarization step (invalid output, 429, 5xx, timeouts count) before the stage fails. */
  CALLFLOW_SUMMARY_OPENAI_MAX_ATTEMPTS: field.positiveInt().default(4),
  /** Approximate prompt size (≈ 4 characters a token) above which a transcript is split (map-reduce). */
  CALLFLOW_SUMMARY_OPENAI_MAX_TOKENS_PER_REQUEST: field.positiveInt().default(12_000),
  /** Requests to the provider in flight at once from this process. */
  CALLFLOW_SUMMARY_OPENAI_CONCURRENCY: field.positiveInt().default(4),
  /** Consecutive outage failures (5xx, timeouts, unreachable) that open the provider's circuit breaker. */
  CALLFLOW_SUMMARY_BREAKER_THRESHOLD: field.positiveInt().default(5),
  /** How long an open breaker fails summarizations fast before one trial request goes through. */
  CALLFLOW_SUMMARY_BREAKER_HALF_OPEN_AFTER_MS: field.milliseconds().default(30_000),
});

export interface OpenAiSummaryConfig {
  readonly baseURL: string;
  readonly apiKey: string;
  readonly model: string;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly maxTokensPerRequest: number;
  readonly concurrency: number;
  readonly breakerThreshold: number;
  readonly breakerHalfOpenAfterMs: number;
}

export type SummaryConfig = ReturnType<typeof summaryConfigFromEnv>;

/** Parsed once at start; throws a ConfigError naming every bad variable (the chosen provider's missing key too). */
export const summaryConfigFromEnv = (env: Env = process.env) => {
  const e = parseConfig(schema, env);
  if (e.CALLFLOW_SUMMARY_PROVIDER === "openai" && !e.CALLFLOW_SUMMARY_OPENAI_API_KEY) {
    throw new ConfigError([
      { variable: "CALLFLOW_SUMMARY_OPENAI_API_KEY", message: "CALLFLOW_SUMMARY_OPENAI_API_KEY is required when CALLFLOW_SUMMARY_PROVIDER is openai" },
    ]);
  }
  const openai =
    e.CALLFLOW_SUMMARY_PROVIDER === "openai"
      ? Object.freeze({
          baseURL: e.CALLFLOW_SUMMARY_OPENAI_BASE_URL,
          apiKey: e.CALLFLOW_SUMMARY_OPENAI_API_KEY!,
          model: e.CALLFLOW_SUMMARY_OPENAI_MODEL,
          timeoutMs: e.CALLFLOW_SUMMARY_OPENAI_TIMEOUT_MS,
          maxAttempts: e.CALLFLOW_SUMMARY_OPENAI_MAX_ATTEMPTS,
          maxTokensPerRequest: e.CALLFLOW_SUMMARY_OPENAI_MAX_TOKENS_PER_REQUEST,
          concurrency: e.CALLFLOW_SUMMARY_OPENAI_CONCURRENCY,
          breakerThreshold: e.CALLFLOW_SUMMARY_BREAKER_THRESHOLD,
          breakerHalfOpenAfterMs: e.CALLFLOW_SUMMARY_BREAKER_HALF_OPEN_AFTER_MS,
        })
      : undefined;
  return Object.freeze({
    ...serviceConnection(e),
    ...worker.settings(e),
    provider: e.CALLFLOW_SUMMARY_PROVIDER,
    openai,
  });
};
