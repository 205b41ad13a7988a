import type { CallStatus } from "../port.ts";

/** Twilio's call statuses (REST `status`, callback `CallStatus`) in Callflow's words. */
const FROM_TWILIO: Readonly<Record<string, CallStatus>> = {
  queued: "queued",
  initiated: "queued",
  ringing: "ringing",
  "in-progress": "in_progress",
  completed: "completed",
  busy: "busy",
  "no-answer": "no_answer",
  failed: "failed",
  canceled: "canceled",
};

/**
 * Undefined for a status Twilio has not documented. Importable alone (`@callflow/telephony/call-status`)
 * without loading the Twilio SDK, as ingest's webhook does.
 */
export const knownTwilioCallStatus = (status: string): CallStatus | undefined => FROM_TWILIO[status];

/** Throws on a status Twilio has not documented: a contract change to look at, not to guess through. */
export const callStatusFromTwilio = (status: string): CallStatus => {
  const mapped = knownTwilioCallStatus(status);
  if (!mapped) throw new Error(`twilio reported an unknown call status: ${JSON.stringify(status)}`);
  return mapped;
};
