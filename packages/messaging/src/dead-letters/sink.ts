import { randomUUID } from "node:crypto";
import { decodeEvent, isUuid, type EventKey, type EventOf, type Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import type { CallflowMetrics, Logger } from "@callflow/telemetry";
import type { DeadLetterEnvelope, DeadLetterHook, DeadLetterSink } from "../envelope.ts";
import { emitInTransaction, type OutboxRelay } from "../outbox.ts";

/**
 * Dead letters (docs/design.md invariants 4 and 7): the full original envelope of a message given up on,
 * kept in Postgres for inspection and replay, with the entity it concerns marked failed.
 */

/** Identity fields of event payloads, most specific first: a chunk event fails its chunk, not its call. */
const ENTITY_FIELDS = [
  ["chunkId", "chunk"],
  ["dialId", "dial"],
  ["callId", "call"],
  ["notificationId", "notification"],
  ["callbackId", "provider_callback"],
] as const;

interface DecodedEvent {
  event: EventKey;
  payload: EventOf<EventKey>;
}

const decodeEnvelope = (topology: Topology, envelope: DeadLetterEnvelope): DecodedEvent | undefined => {
  const event = topology.eventForSubject(envelope.subject);
  if (event === undefined) return undefined;
  try {
    return { event, payload: decodeEvent(event, envelope.payload) };
  } catch {
    return undefined;
  }
};

const entityOf = (decoded: DecodedEvent | undefined) => {
  const fields = (decoded?.payload ?? {}) as Record<string, unknown>;
  const found = ENTITY_FIELDS.find(([field]) => typeof fields[field] === "string" && fields[field] !== "");
  const tenantId = fields.tenantId;
  return {
    entityType: found?.[1] ?? null,
    entityId: found ? (fields[found[0]] as string) : null,
    tenantId: typeof tenantId === "string" && isUuid(tenantId) ? tenantId : null,
  };
};

export interface PostgresDeadLetterSinkOptions {
  db: Db;
  topology: Topology;
  /** The process's relay: publishes the messageDeadLettered event right after commit (its sweeper is the backstop). */
  relay: Pick<OutboxRelay, "publishNow">;
  logger: Logger;
  /** Counts what is stored, by stage; left out where the consume loop counts its own (startConsumer's metrics). */
  metrics?: Pick<CallflowMetrics, "deadLetters">;
}

/**
 * Stores each dead letter once per (stream, consumer, stream sequence), together with its
 * messageDeadLettered outbox row. The consumer's dead-letter hook runs inside that transaction, after
 * the insert: if it throws, nothing is stored and `record` rejects, so the next attempt (the consume
 * loop naks the message and records it again on its redelivery) marks the entity again instead of never.
 */
export function createPostgresDeadLetterSink(options: PostgresDeadLetterSinkOptions): DeadLetterSink {
  const { db, topology, relay, logger, metrics } = options;
  // The stage label is the consumer's key (`transcription`), as on the consume loop's metrics.
  const durablePrefix = `${topology.namespace}_`;
  const stageOf = (durable: string) => (durable.startsWith(durablePrefix) ? durable.slice(durablePrefix.length) : durable);

  const record = async (envelope: DeadLetterEnvelope, onDeadLetter: DeadLetterHook | undefined): Promise<void> => {
    const decoded = decodeEnvelope(topology, envelope);
    const entity = entityOf(decoded);
    const id = randomUUID();
    const outboxId = await db.$transaction(
      async (tx) => {
        const { count } = await tx.deadLetter.createMany({
          data: [
            {
              id,
              stream: envelope.stream,
              consumer: envelope.consumer,
              subject: envelope.subject,
              streamSequence: BigInt(envelope.streamSequence),
              headers: envelope.headers,
              payload: new Uint8Array(envelope.payload),
              deliveryCount: envelope.deliveryCount,
              reason: envelope.reason,
              errorCode: envelope.errorCode,
              errorMessage: envelope.errorMessage,
              ...entity,
            },
          ],
          skipDuplicates: true,
        });
        if (count === 0) return undefined;
        const eventId = await emitInTransaction(tx, topology, "messageDeadLettered", {
          deadLetterId: id,
          stream: envelope.stream,
          consumer: envelope.consumer,
          subject: envelope.subject,
          streamSequence: BigInt(envelope.streamSequence),
        });
        if (decoded && onDeadLetter) {
          await onDeadLetter(decoded.payload, {
            eventKey: decoded.event,
            reason: envelope.reason,
            errorCode: envelope.errorCode,
            errorMessage: envelope.errorMessage,
          });
        }
        return eventId;
      },
      { timeout: 30_000, maxWait: 10_000 },
    );
    if (outboxId === undefined) return;
    metrics?.deadLetters.inc({ stage: stageOf(envelope.consumer) });
    logger.warn(
      {
        deadLetterId: id,
        stream: envelope.stream,
        consumer: envelope.consumer,
        subject: envelope.subject,
        streamSequence: envelope.streamSequence,
        deliveryCount: envelope.deliveryCount,
        reason: envelope.reason,
        errorCode: envelope.errorCode,
        ...entity,
      },
      "message dead-lettered",
    );
    void relay.publishNow([outboxId]);
  };

  // One dead letter at a time: the hook queries on its own connection while the transaction holds
  // one, so concurrent records could take the whole pool and wait on each other. Dead letters are rare.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    record: (envelope, onDeadLetter) => {
      const recorded = queue.then(() => record(envelope, onDeadLetter));
      queue = recorded.catch(() => undefined);
      return recorded;
    },
  };
}
