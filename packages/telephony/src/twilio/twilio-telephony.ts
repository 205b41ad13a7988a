import twilio from "twilio";
import { PermanentTelephonyError, RetryableTelephonyError } from "../errors.ts";
import { isTerminalCallStatus, type CallFacts, type MarkerLookup, type PlaceCallRequest, type PlacedCall, type Telephony } from "../port.ts";
import { markerFromUrl, sameMarker, withMarker } from "./call-marker.ts";
import { callStatusFromTwilio } from "./call-status.ts";
import { openTwilioRecording } from "./twilio-recording.ts";
import { TWILIO_API_ORIGIN, TwilioHttp } from "./twilio-http.ts";

export interface TwilioTelephonyOptions {
  accountSid: string;
  authToken: string;
  /** The caller id when a request names none. */
  fromNumber: string | undefined;
  /** Default `https://api.twilio.com`; a Twilio-speaking server otherwise (tests, the simulated carrier). */
  apiBaseUrl?: string | undefined;
  /** Every REST request's deadline. */
  requestTimeoutMs: number;
  /** A recording download's deadline, body included. */
  recordingTimeoutMs: number;
  /** What the callee hears when a request names no TwiML. */
  defaultTwiml?: string | undefined;
  /** How far Twilio's clock may be behind ours when a marker's candidates are chosen; default 60 s. */
  clockSkewMs?: number | undefined;
  /** How long a call with no callback request yet may still be an attempt's; default 5 min. */
  markerGraceMs?: number | undefined;
}

export const DEFAULT_TWIML = "<Response><Say>This call is recorded.</Say><Pause length=\"30\"/></Response>";

/** Enough for any one number within one attempt's window; more than this and the lookup refuses to guess. */
const MAX_CANDIDATES = 100;

/** Twilio's Programmable Voice through the official SDK. */
export function createTwilioTelephony(options: TwilioTelephonyOptions): Telephony {
  const apiBaseUrl = options.apiBaseUrl ?? TWILIO_API_ORIGIN;
  const httpClient = new TwilioHttp({ apiBaseUrl, timeoutMs: options.requestTimeoutMs });
  // `env: {}`: this client's account is the configured one, never TWILIO_* variables of the process.
  const client = twilio(options.accountSid, options.authToken, { httpClient, env: {}, autoRetry: false });
  const clockSkewMs = options.clockSkewMs ?? 60_000;
  const markerGraceMs = options.markerGraceMs ?? 300_000;

  const placeCall = async (request: PlaceCallRequest): Promise<PlacedCall> => {
    const from = request.from ?? options.fromNumber;
    if (!from) throw new PermanentTelephonyError("telephony_rejected", "no caller id: the request names no from number and none is configured");
    const call = await client.calls.create({
      to: request.to,
      from,
      twiml: request.twiml ?? options.defaultTwiml ?? DEFAULT_TWIML,
      statusCallback: withMarker(request.statusCallbackUrl, request.marker),
      statusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
      statusCallbackMethod: "POST",
      record: true,
      recordingStatusCallback: withMarker(request.recordingStatusCallbackUrl, request.marker),
      recordingStatusCallbackEvent: ["completed"],
      recordingStatusCallbackMethod: "POST",
      ...(request.ringTimeoutSeconds === undefined ? {} : { timeout: request.ringTimeoutSeconds }),
    });
    return { providerCallId: call.sid, status: callStatusFromTwilio(call.status) };
  };

  /**
   * Twilio's Call resource does not show its StatusCallback, but a call's Events list every request
   * Twilio made for it, URL included. So: the calls to the number created since the attempt began,
   * then each one's events, looking for the marker in a callback URL.
   */
  const findCallByMarker = async (lookup: MarkerLookup): Promise<PlacedCall | undefined> => {
    const since = lookup.notBefore.getTime() - clockSkewMs;
    const listed = await client.calls.list({ to: lookup.to, pageSize: 50, limit: MAX_CANDIDATES });
    const candidates = listed.filter((call) => call.dateCreated.getTime() >= since);
    if (candidates.length === MAX_CANDIDATES) {
      throw new RetryableTelephonyError("telephony_marker_pending", `${MAX_CANDIDATES} or more calls to ${lookup.to} since ${lookup.notBefore.toISOString()}: too many to tell which is dial ${lookup.marker.dialId}`);
    }
    let unidentified = 0;
    for (const call of candidates) {
      const events = await client.calls(call.sid).events.list({ limit: 50 });
      const markers = events.flatMap((event) => {
        const marker = markerFromUrl((event.request as { url?: string } | undefined)?.url);
        return marker ? [marker] : [];
      });
      if (markers.some((marker) => sameMarker(marker, lookup.marker))) return { providerCallId: call.sid, status: callStatusFromTwilio(call.status) };
      // Twilio has made no request for it yet, so it could still be this attempt's. Ours always
      // subscribe to callbacks: one still without any after the grace period is someone else's.
      if (markers.length === 0 && Date.now() - call.dateCreated.getTime() < markerGraceMs) unidentified += 1;
    }
    if (unidentified > 0) {
      throw new RetryableTelephonyError(
        "telephony_marker_pending",
        `${unidentified} call(s) to ${lookup.to} since ${lookup.notBefore.toISOString()} have had no callback yet; dial ${lookup.marker.dialId} attempt ${lookup.marker.attempt} cannot be ruled out`,
      );
    }
    return undefined;
  };

  const getCall = async (providerCallId: string): Promise<CallFacts> => {
    const call = await client.calls(providerCallId).fetch();
    const status = callStatusFromTwilio(call.status);
    if (!isTerminalCallStatus(status)) return { status };
    const durationSeconds = call.duration ? Number(call.duration) : undefined;
    if (status !== "completed") return { status, durationSeconds };
    const recordings = await client.recordings.list({ callSid: providerCallId, limit: 20 });
    const recording = recordings.find((candidate) => candidate.status === "completed");
    return { status, durationSeconds, recordingUrl: recording?.mediaUrl };
  };

  // Twilio: `completed` hangs up a call in progress; a queued or ringing call takes `canceled`.
  const hangUp = async (providerCallId: string): Promise<void> => {
    const call = await client.calls(providerCallId).fetch();
    const status = callStatusFromTwilio(call.status);
    if (isTerminalCallStatus(status)) return;
    await client.calls(providerCallId).update({ status: status === "in_progress" ? "completed" : "canceled" });
  };

  return {
    account: `twilio:${options.accountSid}`,
    placeCall,
    findCallByMarker,
    getCall,
    hangUp,
    openRecording: (recordingUrl, { signal } = {}) =>
      openTwilioRecording(recordingUrl, { ...options, apiBaseUrl, timeoutMs: options.recordingTimeoutMs, signal }),
  };
}
