import { afterEach, beforeEach } from "vitest";
import { createTwilioTelephony, type TwilioTelephonyOptions } from "../../src/twilio/twilio-telephony.ts";
import { startTwilioServer, type TwilioServer, type TwilioServerOptions } from "../../src/simulated/twilio-server.ts";
import { startCallbackReceiver, type ReceivedCallback } from "./callback-receiver.ts";
import type { Telephony } from "../../src/port.ts";

export const FROM = "+15550100000";

export interface LocalTwilio {
  server: TwilioServer;
  telephony: Telephony;
  receiver: { url: string; received: ReceivedCallback[] };
  /** Another adapter on the same server, with other settings. */
  adapter(overrides?: Partial<TwilioTelephonyOptions>): Telephony;
  /** A placement's callback URLs on the receiver. */
  callbacks(): { statusCallbackUrl: string; recordingStatusCallbackUrl: string };
}

/**
 * Per test: a local Twilio-speaking server, a receiver for its callbacks, and the Twilio adapter
 * pointed at the server. The object is filled in before each test and emptied after it.
 */
export function useLocalTwilio(options: TwilioServerOptions = {}): LocalTwilio {
  const local = {} as LocalTwilio;
  let closeReceiver: () => Promise<void> = async () => {};
  beforeEach(async () => {
    const server = await startTwilioServer({ stepMs: 5, ...options });
    const receiver = await startCallbackReceiver();
    closeReceiver = receiver.close;
    const adapter = (overrides: Partial<TwilioTelephonyOptions> = {}) =>
      createTwilioTelephony({
        accountSid: server.accountSid,
        authToken: server.authToken,
        fromNumber: FROM,
        apiBaseUrl: server.baseUrl,
        requestTimeoutMs: 2_000,
        recordingTimeoutMs: 5_000,
        ...overrides,
      });
    Object.assign(local, {
      server,
      receiver,
      adapter,
      telephony: adapter(),
      callbacks: () => ({ statusCallbackUrl: `${receiver.url}/v1/webhooks/twilio?tenant=t1`, recordingStatusCallbackUrl: `${receiver.url}/v1/webhooks/twilio/recording` }),
    });
  });
  afterEach(async () => {
    await local.server.close();
    await closeReceiver();
  });
  return local;
}
