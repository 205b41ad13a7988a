import { randomUUID } from "node:crypto";
import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StoredMsg,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { decodeEvent, isUuid, type EventKey, type EventOf, type Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import type { CallflowMetrics, Logger } from "@callflow/telemetry";
import type { DeadLetterEnvelope, DeadLetterHook, DeadLetterReason, DeadLetterSink } from "./envelope.ts";
import { emitInTransaction, type OutboxRelay, type Publisher } from "./outbox.ts";

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
  metrics?: Pick<CallflowMetrics, "deadLetters">;
}

/**
 * Stores each dead letter once per (stream, consumer, stream sequence), together with its
 * messageDeadLettered outbox row. The consumer's dead-letter hook runs inside that transaction, after
 * the insert: if it throws, nothing is stored and `record` rejects, so the next attempt (the consume
 * loop's redelivery or the advisory capture) marks the entity again instead of never.
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

const ADVISORY_TYPES: Record<string, DeadLetterReason> = {
  "io.nats.jetstream.advisory.v1.max_deliver": "max_deliveries",
  "io.nats.jetstream.advisory.v1.terminated": "terminated",
};

/** The fields of MAX_DELIVERIES and MSG_TERMINATED advisories this capture reads. */
interface DeliveryAdvisory {
  type: string;
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

/** Headers a direct get adds about the stored message; not part of the original envelope. */
const STORAGE_HEADERS = new Set(["nats-stream", "nats-sequence", "nats-time-stamp", "nats-subject", "nats-last-sequence", "nats-num-pending"]);

const headersOf = (message: StoredMsg): Record<string, string[]> => {
  const headers: Record<string, string[]> = {};
  for (const key of message.header?.keys() ?? []) {
    if (!STORAGE_HEADERS.has(key.toLowerCase())) headers[key] = message.header.values(key);
  }
  return headers;
};

export interface AdvisoryCaptureOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  topology: Topology;
  sink: DeadLetterSink;
  /** The dead-letter hook of the consumer an advisory names (a durable name), if it has one. */
  onDeadLetterFor?: (consumer: string) => DeadLetterHook | undefined;
  logger: Logger;
  /** Durable consumer on the advisory stream; default `<namespace>_dead_letter_capture`. */
  durable?: string;
}

export interface AdvisoryCapture {
  /** Stops consuming once the advisories in hand are handled. */
  stop(): Promise<void>;
}

/**
 * Records messages that exhausted max_deliver or were terminated without the consume loop
 * recording them: a process that died on its last delivery never calls the sink. Each advisory
 * names the message by stream sequence; the original is read back from its stream. When the consume
 * loop did record it, the sink's unique key makes this a no-op. Advisories are at-most-once, so the
 * reaper stays the backstop for entities.
 */
export async function startAdvisoryDeadLetterCapture(options: AdvisoryCaptureOptions): Promise<AdvisoryCapture> {
  const { js, jsm, topology, sink, logger } = options;
  const stream = topology.advisoryStream();
  const durable = options.durable ?? `${topology.namespace}_dead_letter_capture`;

  try {
    await jsm.streams.info(stream);
  } catch (error) {
    throw new Error(`advisory stream ${stream} is missing: declare the topology before capturing dead letters`, { cause: error });
  }
  // Recreated on every (re)subscription: a deleted consumer must not stop the capture for good.
  const ensureConsumer = () =>
    jsm.consumers.info(stream, durable).catch(() =>
      jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(30_000),
        // A record that keeps failing is retried for a few minutes; the reaper is the backstop.
        max_deliver: 20,
      }),
    );
  await ensureConsumer();

  const recordFromAdvisory = async (advisory: DeliveryAdvisory, reason: DeadLetterReason): Promise<void> => {
    const original = await jsm.streams.getMessage(advisory.stream, { seq: advisory.stream_seq });
    const unrecorded =
      reason === "max_deliveries" ? "delivery limit reached without a recorded error" : "terminated without a recorded error";
    await sink.record(
      {
      stream: advisory.stream,
      consumer: advisory.consumer,
      streamSequence: advisory.stream_seq,
      deliveryCount: advisory.deliveries,
      reason,
      ...(original
        ? { subject: original.subject, headers: headersOf(original), payload: original.data, errorCode: reason, errorMessage: unrecorded }
        : {
            subject: "",
            headers: {},
            payload: new Uint8Array(),
            errorCode: "original_unavailable",
            errorMessage: `${unrecorded}; sequence ${advisory.stream_seq} is no longer in stream ${advisory.stream}`,
          }),
      },
      options.onDeadLetterFor?.(advisory.consumer),
    );
  };

  const handle = async (message: JsMsg): Promise<void> => {
    let advisory: DeliveryAdvisory;
    try {
      advisory = message.json<DeliveryAdvisory>();
    } catch (error) {
      logger.warn({ err: error, subject: message.subject }, "unreadable JetStream advisory skipped");
      message.term();
      return;
    }
    const reason = ADVISORY_TYPES[advisory.type];
    if (reason === undefined || typeof advisory.stream_seq !== "number") {
      message.ack();
      return;
    }
    try {
      await recordFromAdvisory(advisory, reason);
      message.ack();
    } catch (error) {
      logger.error({ err: error, stream: advisory.stream, consumer: advisory.consumer, streamSequence: advisory.stream_seq }, "dead letter from advisory not recorded; retrying");
      message.nak(5_000);
    }
  };

  let stopped = false;
  let messages: ConsumerMessages | undefined;

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!stopped) {
      try {
        if (failures > 0) await ensureConsumer();
        const consumer = await js.consumers.get(stream, durable);
        // Short pulls keep heartbeats frequent, so a deleted consumer is noticed within seconds and
        // aborts the subscription; the loop then recreates it.
        messages = await consumer.consume({ max_messages: 32, expires: 5_000, abort_on_missing_resource: true });
        if (stopped) {
          await messages.close();
          break;
        }
        for await (const message of messages) {
          failures = 0;
          await handle(message);
        }
        if (!stopped) throw new Error("advisory subscription ended");
      } catch (error) {
        if (stopped) break;
        failures += 1;
        logger.error({ err: error, stream, durable }, "advisory capture interrupted; resubscribing");
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** failures, 10_000)));
      }
    }
  };
  const running = run();

  return {
    stop: async () => {
      stopped = true;
      await messages?.close();
      await running;
    },
  };
}

export class DeadLetterNotFoundError extends Error {
  override readonly name = "DeadLetterNotFoundError";
  constructor(readonly id: string) {
    super(`dead letter ${id} does not exist`);
  }
}

export class DeadLetterNotReplayableError extends Error {
  override readonly name = "DeadLetterNotReplayableError";
  constructor(readonly id: string, reason: string) {
    super(`dead letter ${id} cannot be replayed: ${reason}`);
  }
}

/** `Nats-*` headers steer JetStream (the message id above all); the replay sets its own. */
const replayHeaders = (stored: unknown): Record<string, string> => {
  if (typeof stored !== "object" || stored === null) return {};
  const headers: Record<string, string> = {};
  for (const [key, values] of Object.entries(stored)) {
    if (key.toLowerCase().startsWith("nats-")) continue;
    const list = (Array.isArray(values) ? values : [values]).filter((value): value is string => typeof value === "string");
    if (list.length > 0) headers[key] = list.join(",");
  }
  return headers;
};

/**
 * Republishes a dead letter's original subject, headers and payload as a new message with
 * `Nats-Msg-Id` = `<id>:replay:<n>`; resolves to its stream sequence. A retry of the same replay
 * (same n) is dropped by JetStream's duplicate window and answers the first replay's sequence.
 */
export async function replayDeadLetter(deps: { db: Db; publisher: Publisher }, id: string): Promise<number> {
  if (!isUuid(id)) throw new DeadLetterNotFoundError(id);
  const letter = await deps.db.deadLetter.findUnique({
    where: { id },
    select: { subject: true, headers: true, payload: true, replayCount: true },
  });
  if (!letter) throw new DeadLetterNotFoundError(id);
  if (letter.subject === "") throw new DeadLetterNotReplayableError(id, "its original message was no longer in the stream");

  const replay = letter.replayCount + 1;
  const ack = await deps.publisher.publish(letter.subject, letter.payload, {
    msgId: `${id}:replay:${replay}`,
    headers: replayHeaders(letter.headers),
  });
  // Counted after the publish: a failed publish leaves the count alone and the next call reuses n.
  await deps.db.deadLetter.updateMany({
    where: { id, replayCount: letter.replayCount },
    data: { replayCount: replay, replayedAt: new Date() },
  });
  return ack.seq;
}
