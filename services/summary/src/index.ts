import { defineConsumer, openRuntime, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import { providerMetrics } from "@callflow/telemetry";
import type { SummaryConfig } from "./config.ts";
import { createSummarizeTranscript, failSummaryOnDeadLetter } from "./handler.ts";
import { createLeadFromCall } from "./leads/create-lead.ts";
import { createSummaryStage } from "./stage/summary-stage.ts";
import type { Summarizer } from "./summarizers/port.ts";
import { providerNameOf } from "./summarizers/openai/openai-summarizer.ts";
import { selectSummarizer } from "./summarizers/select-summarizer.ts";

export { summaryConfigFromEnv, type SummaryConfig, type OpenAiSummaryConfig } from "./config.ts";
export { summaryContent, type SummaryContent } from "./summarizers/summary-content.ts";
export { createExtractiveSummarizer, summarizeExtractively, EXTRACTIVE_MODEL } from "./summarizers/extractive/extractive-summarizer.ts";
export { createOpenAiSummarizer, type OpenAiSummarizerOptions } from "./summarizers/openai/openai-summarizer.ts";
export type { Summarizer, TranscriptInput } from "./summarizers/port.ts";

export type SummaryHandle = ServiceHandle;

export interface StartOptions extends ServiceStartOptions {
  /** Replaces the configured summarizer (tests that need a retry policy without real waits). */
  summarizer?: Summarizer;
}

/**
 * The summary worker: consumes `calls.transcribed`, summarizes the transcript with the configured
 * summarizer and stores the result with callSummarized (the completion consumer takes it from there);
 * and turns completed calls into leads (`leadRequested`), from the fields its summaries extract.
 */
export async function start(config: SummaryConfig, options: StartOptions = {}): Promise<SummaryHandle> {
  const { summarizer: given, ...runtimeOptions } = options;
  const runtime = await openRuntime({ service: "summary", config, ...runtimeOptions });
  // The extractive default calls no provider: no provider series then.
  const provider = config.provider === "openai" && config.openai ? providerNameOf(config.openai.baseURL) : undefined;
  const summarizer = given ?? selectSummarizer(config, provider ? providerMetrics(runtime.metrics.registry, [provider]) : undefined);
  const stage = createSummaryStage({ db: runtime.db, topology: runtime.topology, relay: runtime.relay });

  return runtime.run({
    consumers: [
      defineConsumer({
        declaration: { key: "summary", ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver },
        concurrency: config.concurrency,
        // An LLM call takes seconds: pull only for free slots, so nothing waits here against ack_wait.
        prefetch: 0,
        handler: createSummarizeTranscript({ stage, summarizer, logger: runtime.logger, heartbeatMs: config.heartbeatMs }),
        onDeadLetter: failSummaryOnDeadLetter(stage),
      }),
      defineConsumer({
        // Leads: a completed call's summary fields into its lead (one per call, refreshed by a re-run).
        declaration: { key: "leads", ackWaitMs: 30_000, maxDeliver: config.maxDeliver },
        concurrency: 2,
        handler: createLeadFromCall({ db: runtime.db, topology: runtime.topology, relay: runtime.relay, logger: runtime.logger }),
      }),
    ],
  });
}
