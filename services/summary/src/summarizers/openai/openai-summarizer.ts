import OpenAI from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { Summarizer, SummarizeContext, TranscriptInput } from "../port.ts";
import type { SummaryContent } from "../summary-content.ts";
import { transcriptUnits } from "../transcript-units.ts";
import { DEFAULT_RETRY_POLICY, requestValidated, type RetryPolicy } from "./bounded-requests.ts";
import { combineMessages, partMessages } from "./prompts.ts";
import { createProviderBreaker, DEFAULT_PROVIDER_BREAKER, type ProviderBreakerOptions } from "./provider-breaker.ts";
import { approximateTokens, splitTranscript } from "./split-transcript.ts";
import { summaryResponseFormat } from "./structured-output.ts";

export interface OpenAiSummarizerOptions {
  /** `https://api.openai.com/v1`, or any OpenAI-compatible server's base URL. */
  baseURL: string;
  apiKey: string;
  model: string;
  /** Per request. */
  timeoutMs: number;
  /** Prompt budget of one request, in approximate tokens; longer transcripts are split (map-reduce). */
  maxTokensPerRequest: number;
  retry?: Partial<RetryPolicy>;
  /** Concurrency limit and circuit breaker for this provider; one per summarizer, so one per process. */
  breaker?: Partial<Omit<ProviderBreakerOptions, "provider">>;
}

/** The provider's name on its metrics: the host of its base URL. */
export const providerNameOf = (baseURL: string): string => new URL(baseURL).host;

/** Instructions, schema and the answer's own share of the budget are not transcript. */
const PROMPT_OVERHEAD_TOKENS = 600;
const MIN_PART_TOKENS = 200;

/** Groups partial results so each combine request fits the budget; always at least two per group. */
const groupForCombine = (partials: readonly SummaryContent[], maxTokens: number): SummaryContent[][] => {
  const groups: SummaryContent[][] = [];
  let current: SummaryContent[] = [];
  for (const partial of partials) {
    const next = [...current, partial];
    if (current.length >= 2 && approximateTokens(JSON.stringify(next)) > maxTokens) {
      groups.push(current);
      current = [partial];
    } else {
      current = next;
    }
  }
  if (current.length > 0) groups.push(current);
  return groups;
};

/**
 * OpenAI-compatible chat completions with structured output. A transcript that fits one request is
 * summarized in one; a longer one is split, each part summarized, and the partial results combined
 * (repeatedly, if even they do not fit one request) into the same shape.
 */
export function createOpenAiSummarizer(options: OpenAiSummarizerOptions): Summarizer {
  // Retries belong to requestValidated's bounded loop, which also retries invalid output; not to the SDK.
  const client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 0, timeout: options.timeoutMs });
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const breaker = createProviderBreaker({ ...DEFAULT_PROVIDER_BREAKER, ...options.breaker, provider: providerNameOf(options.baseURL) });
  const budget = Math.max(MIN_PART_TOKENS, options.maxTokensPerRequest - PROMPT_OVERHEAD_TOKENS);

  const complete = (messages: ChatCompletionMessageParam[], ctx: SummarizeContext, what: string) =>
    requestValidated(
      (outerSignal) =>
        breaker.execute(async (signal) => {
          const completion = await client.chat.completions.create(
            { model: options.model, messages, temperature: 0, response_format: summaryResponseFormat },
            { signal, timeout: options.timeoutMs, maxRetries: 0 },
          );
          const choice = completion.choices[0];
          return { content: choice?.message.content, finishReason: choice?.finish_reason };
        }, outerSignal),
      { policy, timeoutMs: options.timeoutMs, ctx, what },
    );

  return {
    model: options.model,
    summarize: async (transcript: TranscriptInput, ctx: SummarizeContext) => {
      const { referenceDate } = transcript;
      // A transcript that fits goes as it is; only a longer one is cut into parts.
      if (approximateTokens(transcript.text) <= budget) {
        return complete(partMessages({ text: transcript.text, referenceDate, part: 1, parts: 1 }), ctx, "summary");
      }
      const parts = splitTranscript(transcriptUnits(transcript), budget);
      // Parts one after another: a provider that rate-limits one request would throttle a burst anyway.
      let partials: SummaryContent[] = [];
      for (const [index, text] of parts.entries()) {
        partials.push(await complete(partMessages({ text, referenceDate, part: index + 1, parts: parts.length }), ctx, `summary of part ${index + 1}/${parts.length}`));
      }
      for (let round = 1; partials.length > 1; round++) {
        const groups = groupForCombine(partials, budget);
        const combined: SummaryContent[] = [];
        for (const [index, group] of groups.entries()) {
          if (group.length === 1) {
            combined.push(group[0]!);
            continue;
          }
          combined.push(await complete(combineMessages({ partials: group, referenceDate }), ctx, `combine round ${round} group ${index + 1}/${groups.length}`));
        }
        partials = combined;
      }
      return partials[0]!;
    },
  };
}
