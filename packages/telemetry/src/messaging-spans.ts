import { SpanKind, context, type Attributes, type Context, type Link, type Span, type Tracer } from "@opentelemetry/api";

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
  /** The producer's context, from `extractTraceContext(msg.headers)`. Default: the active context. */
  parent?: Context;
  /** Further causes, e.g. every chunk's span for the call.transcribed handler (fan-in). */
  links?: Link[];
  attributes?: Attributes;
}

/** A PRODUCER span `publish <subject>`; inject its context into the message headers before publishing. */
export const startProducerSpan = (tracer: Tracer, options: ProducerSpanOptions): Span =>
  tracer.startSpan(
    `publish ${options.subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        ...options.attributes,
        [MESSAGING_SYSTEM]: "nats",
        [MESSAGING_DESTINATION_NAME]: options.subject,
        [MESSAGING_OPERATION_TYPE]: "send",
        [MESSAGING_OPERATION_NAME]: "publish",
        ...(options.messageId === undefined ? {} : { [MESSAGING_MESSAGE_ID]: options.messageId }),
      },
    },
    options.parent ?? context.active(),
  );

/** A CONSUMER span `process <subject>`, child of the producer's span so a call stays one trace. */
export const startConsumerSpan = (tracer: Tracer, options: ConsumerSpanOptions): Span =>
  tracer.startSpan(
    `process ${options.subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...options.attributes,
        [MESSAGING_SYSTEM]: "nats",
        [MESSAGING_DESTINATION_NAME]: options.subject,
        [MESSAGING_OPERATION_TYPE]: "process",
        [MESSAGING_OPERATION_NAME]: "process",
        [MESSAGING_CONSUMER_GROUP_NAME]: options.consumerGroup,
        ...(options.messageId === undefined ? {} : { [MESSAGING_MESSAGE_ID]: options.messageId }),
        ...(options.deliveryCount === undefined ? {} : { [MESSAGING_NATS_DELIVERY_COUNT]: options.deliveryCount }),
      },
      ...(options.links ? { links: options.links } : {}),
    },
    options.parent ?? context.active(),
  );
