import type { Readable } from "node:stream";

/**
 * What the dialer asks of a telephony provider. One implementation talks to Twilio through its SDK;
 * the simulated carrier is that same implementation pointed at a local Twilio-speaking server.
 * Failures are thrown as `RetryableTelephonyError` or `PermanentTelephonyError` (errors.ts).
 */
export interface Telephony {
  /**
   * The provider account this adapter speaks for (`twilio:AC…`): pacing and the circuit breaker
   * are kept per account, since limits and outages are.
   */
  readonly account: string;
  /**
   * Places one outbound call. A timeout or a dropped connection does not say whether the provider
   * placed it: look the marker up before placing the attempt again.
   */
  placeCall(request: PlaceCallRequest): Promise<PlacedCall>;
  /**
   * The call an attempt placed, if it did. Fences double placement after a crash between the
   * provider's answer and the dialer's commit. Throws a retryable `telephony_marker_pending` while
   * a call to the same number exists that cannot be identified yet: "not found" is only said when sure.
   */
  findCallByMarker(lookup: MarkerLookup): Promise<PlacedCall | undefined>;
  /** A call's current facts from the provider, for the reconciler when callbacks are late or lost. */
  getCall(providerCallId: string): Promise<CallFacts>;
  /** Streams a recording (WAV) with the account's credentials; only from the provider's own API origin. */
  openRecording(recordingUrl: string, options?: { signal?: AbortSignal }): Promise<RecordingStream>;
  /**
   * Ends a call that is still queued, ringing or talking (a dial canceled while its call is live). A call
   * that has already ended is left as it is: hanging up twice is harmless.
   */
  hangUp(providerCallId: string): Promise<void>;
}

/** Callflow's call statuses, the same words as the `dial_status` column. */
export const CALL_STATUSES = ["queued", "ringing", "in_progress", "completed", "busy", "no_answer", "failed", "canceled"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

const TERMINAL: ReadonlySet<CallStatus> = new Set(["completed", "busy", "no_answer", "failed", "canceled"]);
export const isTerminalCallStatus = (status: CallStatus): boolean => TERMINAL.has(status);

/** The identity of one placement: sent with the call, so the call can be found again by it. */
export interface CallMarker {
  readonly dialId: string;
  readonly attempt: number;
}

export interface PlaceCallRequest {
  readonly marker: CallMarker;
  /** E.164, e.g. `+14155550101`. */
  readonly to: string;
  /** E.164; absent: the adapter's configured number. */
  readonly from?: string | undefined;
  /** Where call progress is posted (initiated, ringing, answered, completed). The marker is added to its query. */
  readonly statusCallbackUrl: string;
  /** Where the finished recording is announced. The marker is added to its query. */
  readonly recordingStatusCallbackUrl: string;
  /** What the callee hears (TwiML); absent: the adapter's default. */
  readonly twiml?: string | undefined;
  /** How long it rings before `no_answer`. */
  readonly ringTimeoutSeconds?: number | undefined;
}

export interface MarkerLookup {
  readonly marker: CallMarker;
  /** The number the attempt dialled: providers list calls by destination. */
  readonly to: string;
  /** When the attempt was committed as started, before the provider was asked: no earlier call is it. */
  readonly notBefore: Date;
}

export interface PlacedCall {
  readonly providerCallId: string;
  readonly status: CallStatus;
}

export interface CallFacts {
  readonly status: CallStatus;
  /** Once the call has ended. */
  readonly durationSeconds?: number | undefined;
  /** Once the recording is complete; read it with `openRecording`. */
  readonly recordingUrl?: string | undefined;
}

export interface RecordingStream {
  readonly contentType: string;
  /** Undefined when the provider does not say. */
  readonly sizeBytes: number | undefined;
  readonly body: Readable;
}
