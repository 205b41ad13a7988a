import { describe, expect, it } from "vitest";
import { ConfigError } from "@callflow/config";
import { transcriptionConfigFromEnv } from "./config.ts";

const TENANT = "6f1c2a8e-8a52-4f57-9b43-0c6a2d0e4b11";

describe("transcriptionConfigFromEnv", () => {
  it("runs locally with no variables: pocketsphinx, no keys", () => {
    const config = transcriptionConfigFromEnv({});
    expect(config).toMatchObject({ provider: "local", tenantProviders: {}, concurrency: 2, deleteSplitOriginals: false });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("names every variable a chosen provider is missing, never showing a secret", () => {
    const attempt = () =>
      transcriptionConfigFromEnv({
        CALLFLOW_TRANSCRIPTION_PROVIDER: "openai",
        CALLFLOW_TRANSCRIPTION_TENANT_PROVIDERS: `${TENANT}=assemblyai,not-a-tenant=openai`,
        CALLFLOW_ASSEMBLYAI_WEBHOOK_URL: "https://api.example.test/v1/webhooks/assemblyai",
      });
    expect(attempt).toThrow(ConfigError);
    const variables = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as ConfigError).problems.map((p) => p.variable).sort();
      }
      return [];
    })();
    expect(variables).toEqual([
      "CALLFLOW_ASSEMBLYAI_API_KEY",
      "CALLFLOW_ASSEMBLYAI_WEBHOOK_SECRET",
      "CALLFLOW_OPENAI_API_KEY",
      "CALLFLOW_TRANSCRIPTION_TENANT_PROVIDERS",
    ]);
  });

  it("reads per-tenant providers and AssemblyAI's redaction policies", () => {
    const config = transcriptionConfigFromEnv({
      CALLFLOW_TRANSCRIPTION_TENANT_PROVIDERS: ` ${TENANT} = assemblyai `,
      CALLFLOW_ASSEMBLYAI_API_KEY: "test-key",
      CALLFLOW_ASSEMBLYAI_REDACT_PII_POLICIES: "phone_number, email_address",
      CALLFLOW_ASSEMBLYAI_WEBHOOK_HEADER: "X-Callflow-Webhook-Token",
    });
    expect(config.tenantProviders).toEqual({ [TENANT]: "assemblyai" });
    expect(config.assemblyai).toMatchObject({ redactPiiPolicies: ["phone_number", "email_address"], webhookHeader: "x-callflow-webhook-token" });
  });
});
