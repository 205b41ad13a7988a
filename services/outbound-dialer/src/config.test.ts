import { describe, expect, it } from "vitest";
import { dialerConfigFromEnv } from "./config.ts";

describe("the dialer's configuration", () => {
  it("runs locally with the simulated carrier, one call a second, and callbacks to a local ingest", () => {
    const config = dialerConfigFromEnv({});
    expect(config).toMatchObject({ opsPort: 9107, staleAfterMs: 30_000, telephony: { provider: "simulated" } });
    expect(config.pacing).toEqual({ callsPerSecond: 1, tenantConcurrency: 10, agingMs: 60_000, idlePollMs: 1_000 });
    expect(config.callbacks.statusCallbackUrl).toBe("http://127.0.0.1:8080/v1/webhooks/twilio");
  });

  it("takes a fractional rate and a callback base with a trailing slash", () => {
    const config = dialerConfigFromEnv({ CALLFLOW_DIALER_CALLS_PER_SECOND: "0.5", CALLFLOW_DIALER_CALLBACK_BASE_URL: "https://api.example.com/" });
    expect(config.pacing.callsPerSecond).toBe(0.5);
    expect(config.callbacks.recordingStatusCallbackUrl).toBe("https://api.example.com/v1/webhooks/twilio");
  });

  it("names the variable that is wrong", () => {
    expect(() => dialerConfigFromEnv({ CALLFLOW_DIALER_CALLS_PER_SECOND: "0" })).toThrow(/CALLFLOW_DIALER_CALLS_PER_SECOND is invalid \(is not a positive number of calls per second\)/);
    expect(() => dialerConfigFromEnv({ CALLFLOW_DIALER_STALE_AFTER_MS: "10000" })).toThrow(/CALLFLOW_DIALER_STALE_AFTER_MS must exceed CALLFLOW_TWILIO_TIMEOUT_MS/);
    expect(() => dialerConfigFromEnv({ CALLFLOW_TELEPHONY_PROVIDER: "twilio" })).toThrow(/CALLFLOW_TWILIO_ACCOUNT_SID is required/);
  });
});
