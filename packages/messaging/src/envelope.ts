import type { EventKey, EventOf } from "@callflow/contracts";

/**
 * Contracts between the parts of the runtime. The consume loop (consumer.ts) hands failed messages
 * to a DeadLetterSink (dead-letters/sink.ts); services hand in handlers and an entity-failure hook.
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

/** Why a message was given up on, as a dead-letter hook sees it. */
export interface DeadLetterFailure<K extends EventKey = EventKey> {
  eventKey: K;
  reason: DeadLetterReason;
  errorCode: string;
  errorMessage: string;
}

/**
 * Declared beside a handler: marks the entity a dead-lettered event concerns as failed, with the error
 * (invariant 4). Called once per dead letter, while the dead letter row is being stored; it must be
 * idempotent (it runs again if storing fails).
 */
export type DeadLetterHook<K extends EventKey = EventKey> = (event: EventOf<K>, failure: DeadLetterFailure<K>) => Promise<void>;

/** Where the consume loop puts a message it gives up on, before it terms it. */
export interface DeadLetterSink {
  /** Idempotent per (stream, consumer, streamSequence); throws only when nothing could be stored. */
  record(envelope: DeadLetterEnvelope, onDeadLetter?: DeadLetterHook): Promise<void>;
}
