import { z } from "zod";
import { ConfigError, field, parseConfig, type ConfigProblem, type Env, serviceConnection, serviceFields, workerFields } from "@callflow/config";
import { isUuid } from "@callflow/contracts";
import { storageConfigFromEnv } from "@callflow/storage";

const MiB = 1024 * 1024;
const PROVIDERS = ["local", "openai", "assemblyai"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

// Stale after: a running chunk with an older heartbeat has lost its worker and may be claimed again.
const worker = workerFields("TRANSCRIPTION", { opsPort: 9102, concurrency: 2, ackWaitMs: 60_000, maxDeliver: 6, heartbeatMs: 10_000, staleAfterMs: 60_000 });

/** Every variable the transcription service reads; the README's configuration table lists them. */
const schema = z.object({
  ...serviceFields({ databasePoolSize: 10 }),
  ...worker.fields,
  /** The provider for every tenant not listed in CALLFLOW_TRANSCRIPTION_TENANT_PROVIDERS. */
  CALLFLOW_TRANSCRIPTION_PROVIDER: field.oneOf(PROVIDERS).default("local"),
  /** `tenant-uuid=openai,other-uuid=assemblyai`: per-tenant provider choice. */
  CALLFLOW_TRANSCRIPTION_TENANT_PROVIDERS: z.string().optional(),
  CALLFLOW_TRANSCRIPTION_DELETE_SPLIT_ORIGINALS: field.boolean().default(false),
  CALLFLOW_FFMPEG_PATH: z.string().min(1).default("ffmpeg"),
  CALLFLOW_FFPROBE_PATH: z.string().min(1).default("ffprobe"),
  CALLFLOW_AUDIO_TOOL_TIMEOUT_MS: field.milliseconds().default(600_000),
  CALLFLOW_POCKETSPHINX_PATH: z.string().min(1).default("pocketsphinx_continuous"),
  CALLFLOW_POCKETSPHINX_MAX_SECONDS: field.positiveInt().default(600),
  CALLFLOW_OPENAI_BASE_URL: field.url({ protocols: ["http", "https"] }).default("https://api.openai.com/v1"),
  CALLFLOW_OPENAI_API_KEY: field.optionalSecret(),
  CALLFLOW_OPENAI_MODEL: z.string().min(1).default("whisper-1"),
  CALLFLOW_OPENAI_MAX_BYTES: field.positiveInt().default(25 * MiB),
  CALLFLOW_OPENAI_CONCURRENCY: field.positiveInt().default(8),
  CALLFLOW_OPENAI_TIMEOUT_MS: field.milliseconds().default(60_000),
  CALLFLOW_ASSEMBLYAI_BASE_URL: field.url({ protocols: ["http", "https"] }).default("https://api.assemblyai.com"),
  CALLFLOW_ASSEMBLYAI_API_KEY: field.optionalSecret(),
  /** Ingest's public webhook route; unset: completion by polling only. */
  CALLFLOW_ASSEMBLYAI_WEBHOOK_URL: field.url({ protocols: ["http", "https"] }).optional(),
  CALLFLOW_ASSEMBLYAI_WEBHOOK_HEADER: z.string().min(1).default("x-callflow-webhook-token"),
  CALLFLOW_ASSEMBLYAI_WEBHOOK_SECRET: field.optionalSecret(),
  /**
   * Comma-separated AssemblyAI PII policies (phone_number,email_address,…) AssemblyAI applies on its side
   * to every job; unset: none. Callflow's own redaction (the call's redact_pii) is applied either way.
   */
  CALLFLOW_ASSEMBLYAI_REDACT_PII_POLICIES: z.string().optional(),
  CALLFLOW_ASSEMBLYAI_CONCURRENCY: field.positiveInt().default(32),
  CALLFLOW_ASSEMBLYAI_TIMEOUT_MS: field.milliseconds().default(30_000),
  CALLFLOW_ASSEMBLYAI_DEADLINE_BASE_MS: field.milliseconds().default(300_000),
  CALLFLOW_ASSEMBLYAI_DEADLINE_PER_AUDIO_SECOND_MS: field.milliseconds().default(1_000),
  CALLFLOW_ASSEMBLYAI_FIRST_POLL_MS: field.milliseconds().default(30_000),
  CALLFLOW_ASSEMBLYAI_MAX_POLL_MS: field.milliseconds().default(60_000),
});

export type TranscriptionConfig = ReturnType<typeof transcriptionConfigFromEnv>;

const parseTenantProviders = (raw: string | undefined, problems: ConfigProblem[]): Record<string, ProviderName> => {
  const map: Record<string, ProviderName> = {};
  for (const entry of (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const [tenant, provider] = entry.split("=").map((s) => s.trim());
    if (!tenant || !isUuid(tenant) || !PROVIDERS.includes(provider as ProviderName)) {
      problems.push({ variable: "CALLFLOW_TRANSCRIPTION_TENANT_PROVIDERS", message: `CALLFLOW_TRANSCRIPTION_TENANT_PROVIDERS has an entry that is not tenant-uuid=${PROVIDERS.join("|")}: ${JSON.stringify(entry)}` });
      continue;
    }
    map[tenant] = provider as ProviderName;
  }
  return map;
};

/** Parsed once at start; throws a ConfigError naming every bad variable (a chosen provider's missing key too). */
export const transcriptionConfigFromEnv = (env: Env = process.env) => {
  const e = parseConfig(schema, env);
  const problems: ConfigProblem[] = [];
  const tenantProviders = parseTenantProviders(e.CALLFLOW_TRANSCRIPTION_TENANT_PROVIDERS, problems);
  const used = new Set<ProviderName>([e.CALLFLOW_TRANSCRIPTION_PROVIDER, ...Object.values(tenantProviders)]);
  if (used.has("openai") && !e.CALLFLOW_OPENAI_API_KEY) {
    problems.push({ variable: "CALLFLOW_OPENAI_API_KEY", message: "CALLFLOW_OPENAI_API_KEY is required when a tenant or the default uses the openai provider" });
  }
  if (used.has("assemblyai") && !e.CALLFLOW_ASSEMBLYAI_API_KEY) {
    problems.push({ variable: "CALLFLOW_ASSEMBLYAI_API_KEY", message: "CALLFLOW_ASSEMBLYAI_API_KEY is required when a tenant or the default uses the assemblyai provider" });
  }
  if (e.CALLFLOW_ASSEMBLYAI_WEBHOOK_URL && !e.CALLFLOW_ASSEMBLYAI_WEBHOOK_SECRET) {
    problems.push({ variable: "CALLFLOW_ASSEMBLYAI_WEBHOOK_SECRET", message: "CALLFLOW_ASSEMBLYAI_WEBHOOK_SECRET is required with CALLFLOW_ASSEMBLYAI_WEBHOOK_URL (webhooks must be authenticated)" });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...serviceConnection(e),
    ...worker.settings(e),
    provider: e.CALLFLOW_TRANSCRIPTION_PROVIDER,
    tenantProviders: Object.freeze(tenantProviders) as Readonly<Record<string, ProviderName>>,
    deleteSplitOriginals: e.CALLFLOW_TRANSCRIPTION_DELETE_SPLIT_ORIGINALS,
    tools: { ffmpeg: e.CALLFLOW_FFMPEG_PATH, ffprobe: e.CALLFLOW_FFPROBE_PATH, timeoutMs: e.CALLFLOW_AUDIO_TOOL_TIMEOUT_MS },
    pocketsphinx: { binary: e.CALLFLOW_POCKETSPHINX_PATH, maxSeconds: e.CALLFLOW_POCKETSPHINX_MAX_SECONDS },
    openai: {
      baseURL: e.CALLFLOW_OPENAI_BASE_URL,
      apiKey: e.CALLFLOW_OPENAI_API_KEY,
      model: e.CALLFLOW_OPENAI_MODEL,
      maxBytes: e.CALLFLOW_OPENAI_MAX_BYTES,
      concurrency: e.CALLFLOW_OPENAI_CONCURRENCY,
      timeoutMs: e.CALLFLOW_OPENAI_TIMEOUT_MS,
    },
    assemblyai: {
      baseUrl: e.CALLFLOW_ASSEMBLYAI_BASE_URL.replace(/\/+$/, ""),
      apiKey: e.CALLFLOW_ASSEMBLYAI_API_KEY,
      webhookUrl: e.CALLFLOW_ASSEMBLYAI_WEBHOOK_URL,
      webhookHeader: e.CALLFLOW_ASSEMBLYAI_WEBHOOK_HEADER.toLowerCase(),
      webhookSecret: e.CALLFLOW_ASSEMBLYAI_WEBHOOK_SECRET,
      redactPiiPolicies: e.CALLFLOW_ASSEMBLYAI_REDACT_PII_POLICIES?.split(",").map((s) => s.trim()).filter(Boolean),
      concurrency: e.CALLFLOW_ASSEMBLYAI_CONCURRENCY,
      timeoutMs: e.CALLFLOW_ASSEMBLYAI_TIMEOUT_MS,
      deadlineBaseMs: e.CALLFLOW_ASSEMBLYAI_DEADLINE_BASE_MS,
      deadlinePerAudioSecondMs: e.CALLFLOW_ASSEMBLYAI_DEADLINE_PER_AUDIO_SECOND_MS,
      firstPollMs: e.CALLFLOW_ASSEMBLYAI_FIRST_POLL_MS,
      maxPollMs: e.CALLFLOW_ASSEMBLYAI_MAX_POLL_MS,
    },
    storage: storageConfigFromEnv(env),
  });
};
