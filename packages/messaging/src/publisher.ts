import { SpanStatusCode, context, type Tracer } from "@opentelemetry/api";
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/nats-core";
import {
  MESSAGING_NATS_STREAM_SEQUENCE,
  contextWithSpan,
  extractTraceContext,
  injectTraceContext,
  natsHeaderAppender,
  startProducerSpan,
} from "@callflow/telemetry";
import type { Publisher } from "./outbox.ts";

export interface PublishOptions {
  /** `Nats-Msg-Id`: JetStream drops a second message with this id within the duplicate window. */
  msgId: string;
  /**
   * Extra headers. A `traceparent` here (an outbox row's, stored at commit) parents the producer
   * span, so a message published later by the relay stays in the trace that caused it.
   */
  headers?: Record<string, string>;
}

export interface PublishResult {
  seq: number;
  /** True when JetStream already had a message with this msgId (nothing new was stored). */
  duplicate: boolean;
}

export interface PublisherOptions {
  js: JetStreamClient;
  tracer: Tracer;
  /** Longest wait for the PubAck; default 5000 ms. */
  timeoutMs?: number;
}

const TRACE_HEADERS = new Set(["traceparent", "tracestate", "baggage"]);

const toMsgHdrs = (values: Record<string, string>): MsgHdrs => {
  const headers = natsHeaders();
  for (const [key, value] of Object.entries(values)) {
    if (!TRACE_HEADERS.has(key.toLowerCase())) headers.set(key, value);
  }
  return headers;
};

/**
 * Publishes to JetStream and waits for the stream to store the message. Each publish is a producer
 * span whose W3C context travels in the message headers to the consumer's span.
 */
export function createPublisher(options: PublisherOptions): Publisher & {
  publish(subject: string, payload: Uint8Array, publishOptions: PublishOptions): Promise<PublishResult>;
} {
  const { js, tracer } = options;
  const timeout = options.timeoutMs ?? 5_000;

  return {
    async publish(subject, payload, { msgId, headers }) {
      const carried = headers !== undefined && Object.keys(headers).some((key) => key.toLowerCase() === "traceparent");
      const parent = carried
        ? extractTraceContext({ get: (key) => headers[key] ?? "", set: () => undefined, keys: () => Object.keys(headers) }, context.active())
        : context.active();
      const span = startProducerSpan(tracer, { subject, messageId: msgId, parent });
      // Fresh headers without trace keys (toMsgHdrs leaves them out): appending is enough.
      const msgHeaders = headers === undefined ? natsHeaders() : toMsgHdrs(headers);
      injectTraceContext(msgHeaders, contextWithSpan(parent, span), natsHeaderAppender);
      try {
        const ack = await js.publish(subject, payload, { msgID: msgId, headers: msgHeaders, timeout });
        span.setAttribute(MESSAGING_NATS_STREAM_SEQUENCE, ack.seq);
        if (ack.duplicate) span.setAttribute("messaging.nats.duplicate", true);
        return { seq: ack.seq, duplicate: ack.duplicate };
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  };
}
