export { createLogger, REDACTED_PATHS, type Logger, type LoggerOptions } from "./logger.ts";
export { traceAwsSdkClient, tracePgModule } from "./client-spans.ts";
export { startTelemetry, type Telemetry, type TelemetryOptions } from "./start-telemetry.ts";
export { contextWithSpan } from "./propagating-tracer.ts";
export {
  extractTraceContext,
  indexHeaders,
  injectTraceContext,
  natsHeaderAppender,
  natsHeaderSetter,
  w3cPropagator,
  type HeaderIndex,
  type NatsHeaders,
} from "./nats-headers.ts";
export { linkFromTraceparent, traceparentOf } from "./span-links.ts";
export {
  MESSAGING_CONSUMER_GROUP_NAME,
  MESSAGING_DESTINATION_NAME,
  MESSAGING_MESSAGE_ID,
  MESSAGING_NATS_DELIVERY_COUNT,
  MESSAGING_NATS_STREAM_SEQUENCE,
  MESSAGING_OPERATION_NAME,
  MESSAGING_OPERATION_TYPE,
  MESSAGING_SYSTEM,
  startConsumerSpan,
  startProducerSpan,
  type ConsumerSpanOptions,
  type ProducerSpanOptions,
} from "./messaging-spans.ts";
export { createMetrics, HANDLER_DURATION_BUCKETS, type CallflowMetrics, type MetricsOptions } from "./metrics.ts";
export {
  BREAKER_STATE,
  PROVIDER_OUTCOMES,
  providerMetrics,
  REAL_TIME_FACTOR_BUCKETS,
  trackBreakerState,
  type ProviderMetrics,
  type ProviderOutcome,
} from "./provider-metrics.ts";
export { reachableUrl, serveOps, type OpsServer, type OpsServerOptions, type ReadinessChecks } from "./ops-server.ts";
// The tracing SDK's own classes, so tests in other packages use the copy startTelemetry runs on.
export { InMemorySpanExporter, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace";
