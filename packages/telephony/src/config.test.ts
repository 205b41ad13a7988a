import { describe, expect, it } from "vitest";
import { ConfigError } from "@callflow/config";
import { telephonyConfigFromEnv } from "./config.ts";

const SID = `AC${"a".repeat(32)}`;

describe("telephonyConfigFromEnv", () => {
  it("defaults to the simulated carrier, which needs no account", () => {
    expect(telephonyConfigFromEnv({})).toEqual({
      provider: "simulated",
      requestTimeoutMs: 15_000,
      recordingTimeoutMs: 120_000,
      authToken: undefined,
      fromNumber: undefined,
      port: 0,
      recordingCacheDir: undefined,
    });
  });

  it("reads a Twilio account, trimming the API base's trailing slash", () => {
    const config = telephonyConfigFromEnv({
      CALLFLOW_TELEPHONY_PROVIDER: "twilio",
      CALLFLOW_TWILIO_ACCOUNT_SID: SID,
      CALLFLOW_TWILIO_AUTH_TOKEN: "secret-token",
      CALLFLOW_TWILIO_FROM_NUMBER: "+14155550100",
      CALLFLOW_TWILIO_API_BASE_URL: "http://twilio.internal:8080/",
      CALLFLOW_TWILIO_TIMEOUT_MS: "5000",
    });
    expect(config).toMatchObject({ provider: "twilio", accountSid: SID, authToken: "secret-token", fromNumber: "+14155550100", apiBaseUrl: "http://twilio.internal:8080", requestTimeoutMs: 5_000 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("names every variable Twilio still needs", () => {
    const error = (() => {
      try {
        telephonyConfigFromEnv({ CALLFLOW_TELEPHONY_PROVIDER: "twilio", CALLFLOW_TWILIO_ACCOUNT_SID: SID });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((problem) => problem.variable)).toEqual(["CALLFLOW_TWILIO_AUTH_TOKEN", "CALLFLOW_TWILIO_FROM_NUMBER"]);
  });

  it("says what is wrong with a value, and never shows the token", () => {
    expect(() => telephonyConfigFromEnv({ CALLFLOW_TWILIO_ACCOUNT_SID: "SK123", CALLFLOW_TWILIO_FROM_NUMBER: "0415 555" })).toThrow(
      /CALLFLOW_TWILIO_ACCOUNT_SID is invalid \(is not a Twilio account sid[^\n]*: "SK123"\n.*CALLFLOW_TWILIO_FROM_NUMBER is invalid \(is not an E\.164 number/s,
    );
    expect(() => telephonyConfigFromEnv({ CALLFLOW_TWILIO_AUTH_TOKEN: " ", CALLFLOW_TELEPHONY_PROVIDER: "carrier-pigeon" })).toThrow(/CALLFLOW_TELEPHONY_PROVIDER is not one of simulated, twilio/);
    expect(() => telephonyConfigFromEnv({ CALLFLOW_TWILIO_AUTH_TOKEN: " " })).toThrow(/CALLFLOW_TWILIO_AUTH_TOKEN is empty: \[redacted\]/);
  });
});
