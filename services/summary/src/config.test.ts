import { ConfigError } from "@callflow/config";
import { describe, expect, it } from "vitest";
import { summaryConfigFromEnv } from "./config.ts";

describe("summary configuration", () => {
  it("runs locally with no variables set, on the extractive summarizer", () => {
    const config = summaryConfigFromEnv({});
    expect(config).toMatchObject({ provider: "extractive", opsPort: 9105, namespace: "callflow", openai: undefined });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("requires an API key for the openai provider and never prints it", () => {
    expect(() => summaryConfigFromEnv({ CALLFLOW_SUMMARY_PROVIDER: "openai" })).toThrow(/CALLFLOW_SUMMARY_OPENAI_API_KEY is required/);
    const config = summaryConfigFromEnv({
      CALLFLOW_SUMMARY_PROVIDER: "openai",
      CALLFLOW_SUMMARY_OPENAI_API_KEY: "sk-secret",
      CALLFLOW_SUMMARY_OPENAI_MAX_TOKENS_PER_REQUEST: "4000",
    });
    expect(config.openai).toMatchObject({ apiKey: "sk-secret", model: "gpt-4o-mini", maxTokensPerRequest: 4_000, maxAttempts: 4 });
    expect(config.openai).toMatchObject({ concurrency: 4, breakerThreshold: 5, breakerHalfOpenAfterMs: 30_000 });
  });

  it("takes the provider's concurrency and circuit breaker settings", () => {
    const config = summaryConfigFromEnv({
      CALLFLOW_SUMMARY_PROVIDER: "openai",
      CALLFLOW_SUMMARY_OPENAI_API_KEY: "sk-secret",
      CALLFLOW_SUMMARY_OPENAI_CONCURRENCY: "2",
      CALLFLOW_SUMMARY_BREAKER_THRESHOLD: "3",
      CALLFLOW_SUMMARY_BREAKER_HALF_OPEN_AFTER_MS: "10000",
    });
    expect(config.openai).toMatchObject({ concurrency: 2, breakerThreshold: 3, breakerHalfOpenAfterMs: 10_000 });
  });

  it("names every bad variable at once", () => {
    let error: unknown;
    try {
      summaryConfigFromEnv({ CALLFLOW_SUMMARY_PROVIDER: "gpt", CALLFLOW_SUMMARY_OPENAI_BASE_URL: "ftp://x", CALLFLOW_SUMMARY_OPS_PORT: "70000" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((problem) => problem.variable).sort()).toEqual([
      "CALLFLOW_SUMMARY_OPENAI_BASE_URL",
      "CALLFLOW_SUMMARY_OPS_PORT",
      "CALLFLOW_SUMMARY_PROVIDER",
    ]);
  });
});
