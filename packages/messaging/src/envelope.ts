import type { EventKey, EventOf } from "@callflow/contracts";

/**
 * Contracts between the parts of the runtime. The consume loop (consumer.ts) hands failed messages
 * to a DeadLetterSink (dead-letters.ts); services hand in handlers and an entity-failure hook.
 */

/** A message exactly as JetStream delivered it: enough to store, inspect and replay it. */
export interface Envelope {
  stream: string;
  consumer: string;
  subject: string;
  streamSequence: number;
  /** Header name → values, as received (trace context, Nats-Msg-Id …). */
  headers: Record<string, string[]>;
  payload: Uint8Array;
  deliveryCount: number;
}

export type DeadLetterReason = "max_deliveries" | "terminated" | "undecodable";

export interface DeadLetterEnvelope extends Envelope {
  reason: DeadLetterReason;
  errorCode: string;
  errorMessage: string;
}

/** Where the consume loop puts a message it gives up on, before it terms it. */
export interface DeadLetterSink {
  /** Idempotent per (stream, consumer, streamSequence); throws only when nothing could be stored. */
  record(envelope: DeadLetterEnvelope): Promise<void>;
}

/**
 * Provided by a service: marks the entity a dead-lettered event concerns as failed, with the error
 * (invariant 4). Called once per dead letter, after the dead letter row is stored.
 */
export type EntityFailureHook = <K extends EventKey>(failure: {
  event: K;
  payload: EventOf<K>;
  reason: DeadLetterReason;
  errorCode: string;
  errorMessage: string;
}) => Promise<void>;
