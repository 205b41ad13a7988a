/**
 * What the simulated carrier does with a call, decided by the last four digits of the number dialled
 * (the README's number table). Any other well-formed number is answered; a number that is not E.164
 * is refused as Twilio refuses it.
 */

export type CallEnding = "completed" | "busy" | "no-answer" | "failed";

export type CallOutcome =
  /** Accepted (201); the call plays out to `ending`, with its callbacks unless `callbacksArrive` is false. */
  | { kind: "plays"; ending: CallEnding; callbacksArrive: boolean }
  /** The REST API answers this error instead of placing the call. */
  | { kind: "refused"; status: number; code: number; message: string; retryAfter?: boolean }
  /** The REST API never answers: the client's deadline must end the request. */
  | { kind: "hangs" };

export const NUMBER_TABLE: Readonly<Record<string, { outcome: CallOutcome; meaning: string }>> = {
  "0001": { outcome: { kind: "plays", ending: "completed", callbacksArrive: true }, meaning: "answered, talks, completed; recorded" },
  "0002": { outcome: { kind: "plays", ending: "busy", callbacksArrive: true }, meaning: "busy" },
  "0003": { outcome: { kind: "plays", ending: "no-answer", callbacksArrive: true }, meaning: "rings, nobody answers" },
  "0004": { outcome: { kind: "plays", ending: "failed", callbacksArrive: true }, meaning: "the call fails (unreachable network)" },
  "0005": { outcome: { kind: "refused", status: 500, code: 20500, message: "Internal Server Error" }, meaning: "the REST API answers 500" },
  "0006": { outcome: { kind: "refused", status: 429, code: 20429, message: "Too Many Requests", retryAfter: true }, meaning: "the REST API answers 429 with Retry-After" },
  "0007": { outcome: { kind: "hangs" }, meaning: "the REST API never answers" },
  "0008": { outcome: { kind: "plays", ending: "completed", callbacksArrive: false }, meaning: "answered and recorded, but no callback ever arrives (Twilio tried: they are in the call's events)" },
  "0009": {
    outcome: { kind: "refused", status: 400, code: 21215, message: "Account not authorized to call this number. Perhaps you need to enable some international permissions" },
    meaning: "the REST API refuses the destination (400, 21215)",
  },
};

const E164 = /^\+[1-9]\d{6,14}$/;

export const outcomeFor = (to: string): CallOutcome => {
  if (!E164.test(to)) return { kind: "refused", status: 400, code: 21211, message: `Invalid 'To' Phone Number: ${to}` };
  return NUMBER_TABLE[to.slice(-4)]?.outcome ?? { kind: "plays", ending: "completed", callbacksArrive: true };
};
