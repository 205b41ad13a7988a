import type { Telephony } from "../port.ts";
import { createTwilioTelephony } from "../twilio/twilio-telephony.ts";
import { CALLBACK_CONVERSATION, readPhoneConversation, type ConversationTurn } from "./phone-conversation.ts";
import { startTwilioServer, type TwilioServer, type TwilioServerOptions } from "./twilio-server.ts";

/** The simulated account: a fixed sid, so pacing and breaker state keep one key across restarts. */
export const SIMULATED_ACCOUNT_SID = `AC${"5".repeat(32)}`;
export const SIMULATED_FROM_NUMBER = "+15550100000";

export interface SimulatedCarrierOptions {
  /** Signs callbacks; give ingest's CALLFLOW_TWILIO_AUTH_TOKEN so it accepts them. Default: random. */
  authToken?: string | undefined;
  fromNumber?: string | undefined;
  /** What answered calls say; default `CALLBACK_CONVERSATION`. */
  conversation?: readonly ConversationTurn[] | undefined;
  /** Where synthesized recordings are kept between runs. */
  recordingCacheDir?: string | undefined;
  /** Default 0: a free port. */
  port?: number | undefined;
  /** Pace of each call's statuses; default 200 ms. */
  stepMs?: number | undefined;
  requestTimeoutMs?: number | undefined;
  recordingTimeoutMs?: number | undefined;
  /** Another recording than the festival conversation (tests that need no speech). */
  recording?: TwilioServerOptions["recording"];
}

export interface SimulatedCarrier extends Telephony {
  /** The local Twilio the adapter talks to: its calls, callbacks and fault knobs. */
  readonly server: TwilioServer;
  readonly authToken: string;
  close(): Promise<void>;
}

/**
 * Telephony with no account and no network: a Twilio-speaking server in this process and the Twilio
 * adapter pointed at it, so the embedded default runs the production code path. Speech is made on
 * the first answered call (and cached on disk), never at start.
 */
export async function createSimulatedCarrier(options: SimulatedCarrierOptions = {}): Promise<SimulatedCarrier> {
  const conversation = options.conversation ?? CALLBACK_CONVERSATION;
  const server = await startTwilioServer({
    accountSid: SIMULATED_ACCOUNT_SID,
    authToken: options.authToken,
    port: options.port,
    stepMs: options.stepMs ?? 200,
    recording: options.recording ?? (() => readPhoneConversation(conversation, { cacheDir: options.recordingCacheDir })),
  });
  const telephony = createTwilioTelephony({
    accountSid: server.accountSid,
    authToken: server.authToken,
    fromNumber: options.fromNumber ?? SIMULATED_FROM_NUMBER,
    apiBaseUrl: server.baseUrl,
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    recordingTimeoutMs: options.recordingTimeoutMs ?? 120_000,
  });
  return { ...telephony, server, authToken: server.authToken, close: () => server.close() };
}
