import { SpanKind, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, startTelemetry } from "@callflow/telemetry";
import { expect, test, testInfraUrls, waitFor } from "@callflow/testkit";
import { ack } from "../src/outcome.ts";
import { defineConsumer } from "../src/runtime.ts";
import { startTestWorker } from "./fixtures/test-worker.ts";
import { spawnFixture } from "./fixtures/consumer-support.ts";

interface ProducerReport {
  traceId: string;
  requestSpanId: string;
  producerSpanId: string;
  producerParentSpanId: string;
  producerAttributes: Record<string, unknown>;
}

test("one trace id spans a producer process and the consumer process that handles its message", async ({ database, messaging }) => {
  const exporter = new InMemorySpanExporter();
  // The first startTelemetry of a process sets the span processors; the worker shares its SDK.
  const telemetry = startTelemetry({ serviceName: "tracing-test", spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const t = messaging.topology;
  const handled: { traceId: string | undefined; spanId: string | undefined }[] = [];
  const worker = await startTestWorker({
    service: "tracing-test",
    natsUrl: testInfraUrls().nats,
    databaseUrl: database.url,
    namespace: messaging.namespace,
    consumers: [
      defineConsumer({
        declaration: { key: "transcription", ackWaitMs: 5_000, maxDeliver: 3 },
        concurrency: 2,
        handler: async () => {
          // Whatever the handler does runs inside the consumer span.
          trace.getTracer("handler").startActiveSpan("transcribe chunk", (span) => {
            handled.push({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });
            span.end();
          });
          return ack();
        },
      }),
    ],
  });

  let report: ProducerReport;
  try {
    const producer = spawnFixture("traced-publisher.ts", { CALLFLOW_NATS_URL: testInfraUrls().nats, CALLFLOW_NAMESPACE: messaging.namespace, CHUNK_ID: "c-42" });
    expect(await producer.exited).toBe(0);
    report = JSON.parse(producer.output().trim().split("\n").at(-1)!) as ProducerReport;
    await waitFor("the message to be handled", () => handled.length === 1);
  } finally {
    await worker.stop();
  }
  await telemetry.flush();
  const spans = exporter.getFinishedSpans();
  await telemetry.shutdown();

  const subject = t.subject("chunkReady");
  expect(report.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(report.producerParentSpanId).toBe(report.requestSpanId);
  expect(report.producerAttributes).toMatchObject({ "messaging.system": "nats", "messaging.destination.name": subject, "messaging.message.id": "msg-c-42" });

  const consumerSpan = spans.find((span) => span.name === `process ${subject}`);
  expect(consumerSpan?.kind).toBe(SpanKind.CONSUMER);
  expect(consumerSpan?.spanContext().traceId).toBe(report.traceId);
  expect(consumerSpan?.parentSpanContext?.spanId).toBe(report.producerSpanId);
  expect(consumerSpan?.attributes).toMatchObject({
    "messaging.system": "nats",
    "messaging.destination.name": subject,
    "messaging.operation.type": "process",
    "messaging.consumer.group.name": t.consumer("transcription").durable,
    "messaging.message.id": "msg-c-42",
    "messaging.nats.message.delivery_count": 1,
    "callflow.outcome": "ack",
  });

  const handlerSpan = spans.find((span) => span.name === "transcribe chunk");
  expect(handlerSpan?.spanContext().traceId).toBe(report.traceId);
  expect(handlerSpan?.parentSpanContext?.spanId).toBe(consumerSpan?.spanContext().spanId);
}, 60_000);
