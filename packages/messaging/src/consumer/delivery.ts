import { SpanStatusCode, context, type Span, type Tracer } from "@opentelemetry/api";
import type { EventKey, Topology } from "@callflow/contracts";
import { contextWithSpan, extractTraceContext, indexHeaders, startConsumerSpan, type HeaderIndex, type Logger } from "@callflow/telemetry";
import type { ConsumerHandler, ConsumerStats, Delivery } from "../consumer.ts";
import { classifyError, type Outcome } from "../outcome.ts";
import { decide, decodeMessage, isLastDelivery, Undecodable } from "./dispatch.ts";
import type { HeldMessage } from "./held-messages.ts";
import type { Settlement } from "./settlement.ts";

class MessageDelivery<K extends EventKey> implements Delivery<K> {
  readonly subject: string;
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  readonly lastDelivery: boolean;
  readonly streamSequence: number;

  constructor(
    readonly held: HeldMessage,
    readonly eventKey: K,
    readonly messageId: string | undefined,
    maxDeliver: number,
  ) {
    this.subject = held.msg.subject;
    this.deliveryCount = held.msg.info.deliveryCount;
    this.redelivered = this.deliveryCount > 1;
    this.lastDelivery = isLastDelivery(this.deliveryCount, maxDeliver);
    this.streamSequence = held.msg.info.streamSequence;
  }

  working(): void {
    this.held.progress();
  }

  get signal(): AbortSignal {
    return this.held.signal;
  }
}

/** The consumer's labelled metric children, created once rather than a label object per message. */
export interface DeliveryMetrics {
  deliveries: { inc(): void };
  redeliveries: { inc(): void };
  /** Seconds from the message's arrival in its stream to its first delivery. */
  queueWait: { observe(seconds: number): void };
  handlerDuration: Record<"ack" | "retry" | "dead", { observe(seconds: number): void }>;
}

export interface DeliverOptions {
  topology: Topology;
  durable: string;
  handler: ConsumerHandler;
  maxDeliver: number;
  retryBackoffMs: readonly number[];
  settlement: Settlement;
  stats: ConsumerStats;
  metrics: DeliveryMetrics | undefined;
  tracer: Tracer;
  log: Logger;
  /** Called once per delivered message, however it ended. */
  finished(entry: HeldMessage): void;
}

const NO_HEADERS: HeaderIndex = new Map();

/** The `callflow.outcome` of a disposition, as on spans and the handler-duration metric. */
const OUTCOME = { ack: "ack", nak: "retry", deadLetter: "dead" } as const;

/**
 * Returns what takes one held message to its handler: a consumer span, child of the producer's
 * context from the headers, decode, the handler, and its outcome settled. The returned function
 * never throws once the span has begun, and calls `finished` when the message is done.
 */
export function createDeliver(options: DeliverOptions): (entry: HeldMessage) => void {
  const { topology: t, durable, handler, maxDeliver, retryBackoffMs, settlement, stats, metrics, tracer, log, finished } = options;

  const logFailure = (outcome: Exclude<Outcome, { kind: "ack" }>, streamSequence: number, deliveryCount: number): void => {
    if (outcome.kind === "dead") {
      log.warn({ streamSequence, deliveryCount, errorCode: outcome.code, error: outcome.message }, "handler gave the message up");
    } else if (outcome.unclassified) {
      log.error({ err: outcome.error, streamSequence, deliveryCount }, "handler failed with an unclassified error");
    } else if (outcome.error !== undefined) {
      log.warn({ streamSequence, deliveryCount, errorCode: outcome.code, error: outcome.message }, "handler failed; retrying");
    }
  };

  /** Runs with the consumer span as the active context; the last step of a delivered message. */
  const processInSpan = async (entry: HeldMessage, span: Span, messageId: string | undefined): Promise<void> => {
    const { msg } = entry;
    const { deliveryCount, streamSequence } = msg.info;
    try {
      const eventKey = t.eventForSubject(msg.subject);
      const event = decodeMessage(eventKey, msg.subject, msg.data);
      if (event instanceof Undecodable) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: event.message });
        span.setAttribute("callflow.outcome", "dead");
        log.warn({ streamSequence, subject: msg.subject, code: event.code, error: event.message }, "undecodable message dead-lettered");
        await settlement.deadLetter(msg, event);
        return;
      }

      const started = performance.now();
      let outcome: Outcome;
      try {
        outcome = await handler(event as never, new MessageDelivery(entry, eventKey as EventKey, messageId, maxDeliver) as never);
      } catch (error) {
        outcome = classifyError(error);
      }
      entry.released = true;
      const disposition = decide(outcome, deliveryCount, maxDeliver, retryBackoffMs);
      metrics?.handlerDuration[OUTCOME[disposition.kind]].observe((performance.now() - started) / 1_000);
      span.setAttribute("callflow.outcome", OUTCOME[disposition.kind]);
      if (outcome.kind !== "ack") {
        span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.code}: ${outcome.message}` });
        logFailure(outcome, streamSequence, deliveryCount);
      }
      const storing = settlement.apply(msg, disposition);
      if (storing) await storing;
    } catch (error) {
      // Only a bug in this loop gets here; the message is left to ack_wait.
      log.error({ err: error, streamSequence: msg.seq }, "consume loop failed on a message");
    } finally {
      span.end();
      finished(entry);
    }
  };

  return (entry) => {
    const { msg } = entry;
    const { deliveryCount, streamSequence } = msg.info;
    stats.delivered += 1;
    metrics?.deliveries.inc();
    if (deliveryCount > 1) metrics?.redeliveries.inc();
    else metrics?.queueWait.observe(Math.max(0, Date.now() - msg.info.timestampNanos / 1e6) / 1_000);

    const headers = msg.headers ? indexHeaders(msg.headers) : NO_HEADERS;
    const parent = extractTraceContext(headers);
    const messageId = headers.get("nats-msg-id") || undefined;
    const span = startConsumerSpan(tracer, { subject: msg.subject, consumerGroup: durable, deliveryCount, parent, messageId, streamSequence });
    // Arguments rather than a closure: nothing is allocated for the call itself.
    void context.with(contextWithSpan(parent, span), processInSpan, undefined, entry, span, messageId);
  };
}
