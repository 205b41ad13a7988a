import { z } from "zod";
import { ConfigError, field, parseConfig, type ConfigProblem, type Env } from "@callflow/config";
import type { Telephony } from "./port.ts";
import { createSimulatedCarrier } from "./simulated/simulated-carrier.ts";
import { TWILIO_API_ORIGIN } from "./twilio/twilio-http.ts";
import { createTwilioTelephony } from "./twilio/twilio-telephony.ts";

const PROVIDERS = ["simulated", "twilio"] as const;

const e164 = () => z.string().regex(/^\+[1-9]\d{6,14}$/, "is not an E.164 number (+ then 7 to 15 digits)");

/** The telephony variables, to spread into the schema of the service that dials. */
export const telephonyFields = {
  /** `simulated`: the in-process carrier (no account, no network); `twilio`: Twilio's API. */
  CALLFLOW_TELEPHONY_PROVIDER: field.oneOf(PROVIDERS).default("simulated"),
  CALLFLOW_TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "is not a Twilio account sid (AC and 32 hex digits)").optional(),
  /** Authenticates API requests and signs callbacks; with `simulated`, the carrier signs with it. */
  CALLFLOW_TWILIO_AUTH_TOKEN: field.optionalSecret(),
  /** The caller id of outbound calls that name none. */
  CALLFLOW_TWILIO_FROM_NUMBER: e164().optional(),
  /** A self-hosted endpoint speaking Twilio's API; Twilio's own by default. */
  CALLFLOW_TWILIO_API_BASE_URL: field.url({ protocols: ["http", "https"] }).default(TWILIO_API_ORIGIN),
  /** Each REST request's deadline (placing, looking up, fetching a call). */
  CALLFLOW_TWILIO_TIMEOUT_MS: field.milliseconds().default(15_000),
  /** A recording download's deadline, body included. */
  CALLFLOW_TWILIO_RECORDING_TIMEOUT_MS: field.milliseconds().default(120_000),
  /** The simulated carrier's port; 0 picks a free one. */
  CALLFLOW_TELEPHONY_SIMULATED_PORT: field.port().default(0),
  /** Where the simulated carrier keeps its synthesized recordings; default a folder in the temp dir. */
  CALLFLOW_TELEPHONY_SIMULATED_CACHE_DIR: z.string().min(1).optional(),
};

const schema = z.object(telephonyFields);
type ParsedTelephonyFields = z.output<typeof schema>;

interface Timeouts {
  readonly requestTimeoutMs: number;
  readonly recordingTimeoutMs: number;
}

export type TelephonyConfig =
  | (Timeouts & {
      readonly provider: "twilio";
      readonly accountSid: string;
      readonly authToken: string;
      readonly fromNumber: string;
      readonly apiBaseUrl: string;
    })
  | (Timeouts & {
      readonly provider: "simulated";
      readonly authToken: string | undefined;
      readonly fromNumber: string | undefined;
      readonly port: number;
      readonly recordingCacheDir: string | undefined;
    });

/** The telephony settings from a parsed schema that spread `telephonyFields`; throws naming what Twilio lacks. */
export const telephonyConfig = (e: ParsedTelephonyFields): TelephonyConfig => {
  const timeouts = { requestTimeoutMs: e.CALLFLOW_TWILIO_TIMEOUT_MS, recordingTimeoutMs: e.CALLFLOW_TWILIO_RECORDING_TIMEOUT_MS };
  if (e.CALLFLOW_TELEPHONY_PROVIDER === "simulated") {
    return Object.freeze({
      provider: "simulated",
      ...timeouts,
      authToken: e.CALLFLOW_TWILIO_AUTH_TOKEN,
      fromNumber: e.CALLFLOW_TWILIO_FROM_NUMBER,
      port: e.CALLFLOW_TELEPHONY_SIMULATED_PORT,
      recordingCacheDir: e.CALLFLOW_TELEPHONY_SIMULATED_CACHE_DIR,
    });
  }
  const { CALLFLOW_TWILIO_ACCOUNT_SID: accountSid, CALLFLOW_TWILIO_AUTH_TOKEN: authToken, CALLFLOW_TWILIO_FROM_NUMBER: fromNumber } = e;
  if (!accountSid || !authToken || !fromNumber) {
    const missing = Object.entries({ CALLFLOW_TWILIO_ACCOUNT_SID: accountSid, CALLFLOW_TWILIO_AUTH_TOKEN: authToken, CALLFLOW_TWILIO_FROM_NUMBER: fromNumber }).filter(([, value]) => !value);
    throw new ConfigError(missing.map(([variable]): ConfigProblem => ({ variable, message: `${variable} is required when CALLFLOW_TELEPHONY_PROVIDER is twilio` })));
  }
  return Object.freeze({ provider: "twilio", ...timeouts, accountSid, authToken, fromNumber, apiBaseUrl: e.CALLFLOW_TWILIO_API_BASE_URL.replace(/\/+$/, "") });
};

/** Parsed once at start, frozen; a ConfigError names every bad variable. */
export const telephonyConfigFromEnv = (env: Env = process.env): TelephonyConfig => telephonyConfig(parseConfig(schema, env));

/** The configured provider, ready to dial; `close` stops the simulated carrier (nothing to do for Twilio). */
export async function openTelephony(config: TelephonyConfig): Promise<Telephony & { close(): Promise<void> }> {
  if (config.provider === "simulated") {
    return createSimulatedCarrier({
      authToken: config.authToken,
      fromNumber: config.fromNumber,
      port: config.port,
      recordingCacheDir: config.recordingCacheDir,
      requestTimeoutMs: config.requestTimeoutMs,
      recordingTimeoutMs: config.recordingTimeoutMs,
    });
  }
  return { ...createTwilioTelephony(config), close: async () => {} };
}
