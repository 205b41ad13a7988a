import { z } from "zod";
import { ConfigError, field, parseConfig, type Env, serviceConnection, serviceFields, type ServiceConnection } from "@callflow/config";

export const SUMMARY_PROVIDERS = ["extractive", "openai"] as const;
export type SummaryProviderName = (typeof SUMMARY_PROVIDERS)[number];

/** Every variable the summary service reads; the README's configuration table lists them. */
const schema = z.object({
  ...serviceFields({ databasePoolSize: 5 }),
  CALLFLOW_SUMMARY_OPS_PORT: field.port().default(9105),
  /** LLM calls take seconds each: a few at once per process, more processes for more. */
  CALLFLOW_SUMMARY_CONCURRENCY: field.positiveInt().default(4),
  CALLFLOW_SUMMARY_ACK_WAIT_MS: field.milliseconds().default(60_000),
  CALLFLOW_SUMMARY_MAX_DELIVER: field.positiveInt().default(5),
  /** The stage row's heartbeat period; a running row whose heartbeat is 3× older is taken over. */
  CALLFLOW_SUMMARY_HEARTBEAT_MS: field.milliseconds().default(10_000),
  CALLFLOW_SUMMARY_PROVIDER: field.oneOf(SUMMARY_PROVIDERS).default("extractive"),
  CALLFLOW_SUMMARY_OPENAI_BASE_URL: field.url({ protocols: ["http", "https"] }).default("https://api.openai.com/v1"),
  CALLFLOW_SUMMARY_OPENAI_API_KEY: field.optionalSecret(),
  CALLFLOW_SUMMARY_OPENAI_MODEL: z.string().min(1).default("gpt-4o-mini"),
  CALLFLOW_SUMMARY_OPENAI_TIMEOUT_MS: field.milliseconds().default(60_000),
  /** Requests per summarization step (invalid output, 429, 5xx, timeouts count) before the stage fails. */
  CALLFLOW_SUMMARY_OPENAI_MAX_ATTEMPTS: field.positiveInt().default(4),
  /** Approximate prompt size (≈ 4 characters a token) above which a transcript is split (map-reduce). */
  CALLFLOW_SUMMARY_OPENAI_MAX_TOKENS_PER_REQUEST: field.positiveInt().default(12_000),
});

export interface OpenAiSummaryConfig {
  readonly baseURL: string;
  readonly apiKey: string;
  readonly model: string;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly maxTokensPerRequest: number;
}

export interface SummaryConfig extends ServiceConnection {
  /** 0 picks a free port (tests). */
  readonly opsPort: number;
  readonly concurrency: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly heartbeatMs: number;
  readonly provider: SummaryProviderName;
  /** Present when provider is `openai`. */
  readonly openai?: OpenAiSummaryConfig | undefined;
}

/** Parsed once at start; throws a ConfigError naming every bad variable (the chosen provider's missing key too). */
export const summaryConfigFromEnv = (env: Env = process.env): SummaryConfig => {
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
        })
      : undefined;
  return Object.freeze({
    ...serviceConnection(e),
    opsPort: e.CALLFLOW_SUMMARY_OPS_PORT,
    concurrency: e.CALLFLOW_SUMMARY_CONCURRENCY,
    ackWaitMs: e.CALLFLOW_SUMMARY_ACK_WAIT_MS,
    maxDeliver: e.CALLFLOW_SUMMARY_MAX_DELIVER,
    heartbeatMs: e.CALLFLOW_SUMMARY_HEARTBEAT_MS,
    provider: e.CALLFLOW_SUMMARY_PROVIDER,
    openai,
  });
};
