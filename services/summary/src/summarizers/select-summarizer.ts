import type { ProviderMetrics } from "@callflow/telemetry";
import type { SummaryConfig } from "../config.ts";
import { createExtractiveSummarizer } from "./extractive/extractive-summarizer.ts";
import { createOpenAiSummarizer } from "./openai/openai-summarizer.ts";
import type { Summarizer } from "./port.ts";

/** The summarizer CALLFLOW_SUMMARY_PROVIDER names; config.ts has already checked its settings. */
export const selectSummarizer = (config: Pick<SummaryConfig, "provider" | "openai">, metrics?: Pick<ProviderMetrics, "requests" | "breakerState">): Summarizer => {
  if (config.provider === "openai") {
    const openai = config.openai!;
    return createOpenAiSummarizer({
      baseURL: openai.baseURL,
      apiKey: openai.apiKey,
      model: openai.model,
      timeoutMs: openai.timeoutMs,
      maxTokensPerRequest: openai.maxTokensPerRequest,
      retry: { maxAttempts: openai.maxAttempts },
      breaker: { concurrency: openai.concurrency, breakerThreshold: openai.breakerThreshold, halfOpenAfterMs: openai.breakerHalfOpenAfterMs, metrics },
    });
  }
  return createExtractiveSummarizer();
};
