import { SpanKind, context, type Attributes, type Context, type Link, type Span, type SpanOptions, type Tracer } from "@opentelemetry/api";

// Attribute names from the OpenTelemetry messaging semantic conventions. They are still in the
// incubating set, which the semconv package advises copying rather than importing.
export const MESSAGING_SYSTEM = "messaging.system";
export const MESSAGING_DESTINATION_NAME = "messaging.destination.name";
export const MESSAGING_OPERATION_TYPE = "messaging.operation.type";
export const MESSAGING_OPERATION_NAME = "messaging.operation.name";
export const MESSAGING_MESSAGE_ID = "messaging.message.id";
export const MESSAGING_CONSUMER_GROUP_NAME = "messaging.consumer.group.name";
/** No generic convention exists; named like `messaging.servicebus.message.delivery_count`. */
export const MESSAGING_NATS_DELIVERY_COUNT = "messaging.nats.message.delivery_count";
export const MESSAGING_NATS_STREAM_SEQUENCE = "messaging.nats.stream_sequence";

export interface ProducerSpanOptions {
  subject: string;
  /** The `Nats-Msg-Id` (the outbox id), which also deduplicates. */
  messageId?: string;
  /** Default: the active context. */
  parent?: Context;
  attributes?: Attributes;
}

export interface ConsumerSpanOptions {
  subject: string;
  /** The durable consumer that shares the work, e.g. `callflow_merge`. */
  consumerGroup: string;
  messageId?: string;
  /** JetStream's delivery count: 1 on the first delivery. */
  deliveryCount?: number;
  /** The message's sequence in its stream. */
  streamSequence?: number;
  /** The producer's context, from `extractTraceContext(msg.headers)`. Default: the active context. */
  parent?: Context;
  /** Further causes, e.g. every chunk's span for the call.transcribed handler (fan-in). */
  links?: Link[];
  attributes?: Attributes;
}

/**
 * Adds the caller's extra attributes where the conventional ones left a key unset. The object
 * literals below keep one fixed shape (an unset optional is `undefined`, which the SDK drops): spreading
 * computed keys into them instead made V8 build slow dictionary objects: a consumer span cost ~3x.
 * The keys are written out (the constants above) because literal keys let V8 preallocate the shape.
 */
const withExtra = (attributes: Attributes, extra: Attributes | undefined): Attributes => {
  if (extra) for (const key in extra) if (attributes[key] === undefined) attributes[key] = extra[key];
  return attributes;
};

// Spans start bare and get their attributes only if they record. The SDK validates attributes passed
// at creation before it samples (a WeakSet per value): with every span sampled out, that was a seventh
// of a message's allocations in bench/messaging. Samplers therefore do not see these attributes; none
// of those OTEL_TRACES_SAMPLER can select reads them. No closure per call, on the hottest path there is.
const PRODUCER: SpanOptions = { kind: SpanKind.PRODUCER };
const CONSUMER: SpanOptions = { kind: SpanKind.CONSUMER };

/** A PRODUCER span `publish <subject>`; inject its context into the message headers before publishing. */
export const startProducerSpan = (tracer: Tracer, options: ProducerSpanOptions): Span => {
  const span = tracer.startSpan(`publish ${options.subject}`, PRODUCER, options.parent ?? context.active());
  if (span.isRecording()) {
    span.setAttributes(
      withExtra(
        {
          "messaging.system": "nats",
          "messaging.destination.name": options.subject,
          "messaging.operation.type": "send",
          "messaging.operation.name": "publish",
          "messaging.message.id": options.messageId,
        },
        options.attributes,
      ),
    );
  }
  return span;
};

/** A CONSUMER span `process <subject>`, child of the producer's span so a call stays one trace. */
export const startConsumerSpan = (tracer: Tracer, options: ConsumerSpanOptions): Span => {
  const span = tracer.startSpan(
    `process ${options.subject}`,
    options.links ? { kind: SpanKind.CONSUMER, links: options.links } : CONSUMER,
    options.parent ?? context.active(),
  );
  if (span.isRecording()) {
    span.setAttributes(
      withExtra(
        {
          "messaging.system": "nats",
          "messaging.destination.name": options.subject,
          "messaging.operation.type": "process",
          "messaging.operation.name": "process",
          "messaging.consumer.group.name": options.consumerGroup,
          "messaging.message.id": options.messageId,
          "messaging.nats.message.delivery_count": options.deliveryCount,
          "messaging.nats.stream_sequence": options.streamSequence,
        },
        options.attributes,
      ),
    );
  }
  return span;
};
