import { decodeEvent, type EventKey, type EventOf } from "@callflow/contracts";
import type { DeadLetterReason } from "../envelope.ts";
import { describeError, type Outcome } from "../outcome.ts";

/**
 * What the consume loop does with a message, decided without JetStream: from the bytes, whether
 * the message carries an event at all; from the handler's outcome and the delivery count, whether
 * it is acked, redelivered later or dead-lettered.
 */
export type Disposition = AckDisposition | NakDisposition | DeadLetterDisposition;

export interface AckDisposition {
  readonly kind: "ack";
}

export interface NakDisposition {
  readonly kind: "nak";
  readonly delayMs: number;
}

/** Stored through the dead-letter sink, then termed. */
export interface DeadLetterDisposition {
  readonly kind: "deadLetter";
  readonly reason: DeadLetterReason;
  readonly code: string;
  readonly message: string;
}

export const DEFAULT_RETRY_BACKOFF_MS: readonly number[] = [1_000, 5_000, 30_000, 60_000];

/** JetStream's max_deliver of -1 (or 0) means unlimited: no delivery is the last. */
export const isLastDelivery = (deliveryCount: number, maxDeliver: number): boolean => maxDeliver > 0 && deliveryCount >= maxDeliver;

/** The delay of a retry that names none: the backoff entry for this delivery count, the last one repeating. */
export const retryDelay = (backoffMs: readonly number[], deliveryCount: number): number =>
  backoffMs[Math.min(deliveryCount - 1, backoffMs.length - 1)] ?? 1_000;

// Shared: an ack, the common case, allocates nothing.
const ACK: AckDisposition = Object.freeze({ kind: "ack" });

/** A handler's outcome on this delivery, as what to do with the message. */
export function decide(outcome: Outcome, deliveryCount: number, maxDeliver: number, retryBackoffMs: readonly number[]): Disposition {
  switch (outcome.kind) {
    case "ack":
      return ACK;
    case "dead":
      return { kind: "deadLetter", reason: "terminated", code: outcome.code, message: outcome.message };
    case "retry":
      // A nak on the last delivery would never be redelivered: the message is given up on with its error.
      return isLastDelivery(deliveryCount, maxDeliver)
        ? { kind: "deadLetter", reason: "max_deliveries", code: outcome.code, message: outcome.message }
        : { kind: "nak", delayMs: outcome.afterMs ?? retryDelay(retryBackoffMs, deliveryCount) };
  }
}

/** A message that carries no event of the contract: dead-lettered without reaching the handler. */
export class Undecodable implements DeadLetterDisposition {
  readonly kind = "deadLetter";
  readonly reason = "undecodable";
  constructor(
    readonly code: "unknown_subject" | "undecodable",
    readonly message: string,
  ) {}
}

/** The event a message carries (`eventKey` is the event of its subject, if any), or why it carries none. */
export function decodeMessage(eventKey: EventKey | undefined, subject: string, data: Uint8Array): EventOf<EventKey> | Undecodable {
  if (eventKey === undefined) return new Undecodable("unknown_subject", `subject ${subject} is not an event of the contract`);
  try {
    return decodeEvent(eventKey, data);
  } catch (error) {
    return new Undecodable("undecodable", describeError(error));
  }
}
