import { SpanKind, context, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startConsumerSpan, startProducerSpan } from "./messaging-spans.ts";
import { extractTraceContext, injectTraceContext, type NatsHeaders } from "./nats-headers.ts";
import { linkFromTraceparent, traceparentOf } from "./span-links.ts";
import { startTelemetry, type Telemetry } from "./start-telemetry.ts";

class MsgHeaders implements NatsHeaders {
  readonly #values = new Map<string, string>();
  get = (key: string) => this.#values.get(key) ?? "";
  set = (key: string, value: string) => void this.#values.set(key, value);
  keys = () => [...this.#values.keys()];
}

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;

beforeAll(() => {
  telemetry = startTelemetry({ serviceName: "messaging-test", spanProcessors: [new SimpleSpanProcessor({ exporter })] });
});
afterAll(() => telemetry.shutdown());
beforeEach(() => exporter.reset());

/** Spans wait for async resource detection before export; flushing makes them visible. */
const finishedSpans = async () => {
  await telemetry.flush();
  return exporter.getFinishedSpans();
};

const publish = (subject: string, messageId: string): MsgHeaders => {
  const headers = new MsgHeaders();
  const span = startProducerSpan(telemetry.tracer, { subject, messageId });
  injectTraceContext(headers, trace.setSpan(context.active(), span));
  span.end();
  return headers;
};

describe("messaging spans", () => {
  it("put producer and consumer of one message in one trace with the messaging attributes", async () => {
    const headers = publish("t_abc.calls.transcribe.chunk_ready", "outbox-42");

    const consumer = startConsumerSpan(telemetry.tracer, {
      subject: "t_abc.calls.transcribe.chunk_ready",
      consumerGroup: "callflow_transcription",
      messageId: "outbox-42",
      deliveryCount: 2,
      parent: extractTraceContext(headers),
    });
    consumer.end();

    const [producerSpan, consumerSpan] = await finishedSpans();
    expect(producerSpan?.name).toBe("publish t_abc.calls.transcribe.chunk_ready");
    expect(producerSpan?.kind).toBe(SpanKind.PRODUCER);
    expect(producerSpan?.attributes).toEqual({
      "messaging.system": "nats",
      "messaging.destination.name": "t_abc.calls.transcribe.chunk_ready",
      "messaging.operation.type": "send",
      "messaging.operation.name": "publish",
      "messaging.message.id": "outbox-42",
    });

    expect(consumerSpan?.name).toBe("process t_abc.calls.transcribe.chunk_ready");
    expect(consumerSpan?.kind).toBe(SpanKind.CONSUMER);
    expect(consumerSpan?.attributes).toEqual({
      "messaging.system": "nats",
      "messaging.destination.name": "t_abc.calls.transcribe.chunk_ready",
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      "messaging.consumer.group.name": "callflow_transcription",
      "messaging.message.id": "outbox-42",
      "messaging.nats.message.delivery_count": 2,
    });

    const producerIds = producerSpan?.spanContext();
    expect(consumerSpan?.spanContext().traceId).toBe(producerIds?.traceId);
    expect(consumerSpan?.parentSpanContext?.spanId).toBe(producerIds?.spanId);
  });

  it("links a fan-in consumer span to every chunk span whose traceparent was stored", async () => {
    const stored = ["chunk-0", "chunk-1", "chunk-2"].map((id) => {
      const span = startConsumerSpan(telemetry.tracer, { subject: "t_abc.calls.ledger.chunk_transcribed", consumerGroup: "callflow_aggregator", messageId: id });
      const traceparent = traceparentOf(trace.setSpan(context.active(), span));
      span.end();
      return { traceparent, spanId: span.spanContext().spanId };
    });

    const links = stored.flatMap(({ traceparent }) => {
      const link = traceparent ? linkFromTraceparent(traceparent) : undefined;
      return link ? [link] : [];
    });
    const merge = startConsumerSpan(telemetry.tracer, { subject: "t_abc.calls.transcribed", consumerGroup: "callflow_merge", links });
    merge.end();

    const exported = (await finishedSpans()).find((span) => span.name === "process t_abc.calls.transcribed");
    expect(exported?.links.map((link) => link.context.spanId)).toEqual(stored.map(({ spanId }) => spanId));
  });

  it("parents a producer span on the active span by default", async () => {
    telemetry.tracer.startActiveSpan("handle chunk", (handler) => {
      startProducerSpan(telemetry.tracer, { subject: "t_abc.calls.ledger.chunk_transcribed" }).end();
      handler.end();
    });
    const [producer, handler] = await finishedSpans();
    expect(producer?.parentSpanContext?.spanId).toBe(handler?.spanContext().spanId);
    expect(producer?.attributes).not.toHaveProperty("messaging.message.id");
  });
});
