import { context, diag, propagation, trace, type Tracer } from "@opentelemetry/api";
import { getBooleanFromEnv } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { AlwaysOffSampler, BatchSpanProcessor, NoopSpanProcessor, type SpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace";
import { connectClientSpans } from "./client-spans.ts";
import { PropagatingTracer } from "./propagating-tracer.ts";

export interface TelemetryOptions {
  /** `service.name` of the process (the first caller's, when several services share a process). */
  serviceName: string;
  /** Extra span processors, e.g. `new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })` in tests. */
  spanProcessors?: SpanProcessor[];
  /** A trace exporter (batched); replaces the OTLP exporter the environment would select. */
  exporter?: SpanExporter;
}

export interface Telemetry {
  /** A tracer named after this caller's service. */
  readonly tracer: Tracer;
  /** Exports every finished span now. */
  flush(): Promise<void>;
  /** Releases this caller's hold; the last one to release flushes and stops the SDK. */
  shutdown(): Promise<void>;
}

interface RunningSdk {
  readonly sdk: NodeSDK;
  readonly processors: readonly SpanProcessor[];
  readonly registered: boolean;
  /** Nothing can record: callers get a PropagatingTracer rather than the SDK's. */
  readonly propagateOnly: boolean;
  holders: number;
}

// OpenTelemetry's API globals are process-wide, so the SDK behind them must be too: the CLI runs
// every service in one process and each calls startTelemetry from its own start().
let running: RunningSdk | undefined;

const otlpEndpointConfigured = (env: NodeJS.ProcessEnv): boolean =>
  Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) &&
  env.OTEL_TRACES_EXPORTER?.trim() !== "none";

const boot = (options: TelemetryOptions): RunningSdk => {
  const disabled = getBooleanFromEnv("OTEL_SDK_DISABLED");
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (!disabled) {
    if (options.exporter) processors.push(new BatchSpanProcessor({ exporter: options.exporter }));
    else if (otlpEndpointConfigured(process.env)) processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }));
  }
  // With nothing to export, recording a span is work for nobody (a fifth of a message's CPU in
  // bench/messaging): nothing is sampled, and callers' tracers only propagate (PropagatingTracer),
  // so traceparent still travels and roots still get ids that correlate logs. An explicit
  // OTEL_TRACES_SAMPLER still decides, through the SDK.
  const unexported = processors.length === 0;
  if (unexported) processors.push(new NoopSpanProcessor());
  const propagateOnly = !disabled && unexported && !process.env.OTEL_TRACES_SAMPLER?.trim();
  const sampler = propagateOnly ? { sampler: new AlwaysOffSampler() } : {};

  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors: processors,
    ...sampler,
    // Metrics are prom-client's and logs pino's; stop the SDK from wiring OTLP ones from defaults.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  connectClientSpans(propagateOnly ? new PropagatingTracer() : undefined);
  return { sdk, processors, registered: !disabled, propagateOnly, holders: 0 };
};

/**
 * Starts OpenTelemetry tracing once per process and hands each caller its own hold on it.
 * Later callers share the first SDK; their `spanProcessors` and `exporter` are ignored (with a
 * diagnostic), since a running TracerProvider cannot take new processors.
 */
export const startTelemetry = (options: TelemetryOptions): Telemetry => {
  if (!running) {
    running = boot(options);
  } else if (options.spanProcessors || options.exporter) {
    diag.warn(`startTelemetry(${options.serviceName}): SDK already running; ignoring its span processors and exporter`);
  }
  const state = running;
  state.holders += 1;

  const flush = async (): Promise<void> => {
    await Promise.all(state.processors.map((processor) => processor.forceFlush()));
  };

  let released = false;
  const shutdown = async (): Promise<void> => {
    if (released) return;
    released = true;
    state.holders -= 1;
    if (state.holders > 0) return flush();

    // Unregister first so a startTelemetry racing this shutdown boots a fresh SDK; the old
    // processors still hold their exporters and flush below.
    if (running === state) running = undefined;
    if (state.registered) {
      trace.disable();
      propagation.disable();
      context.disable();
    }
    await state.sdk.shutdown();
  };

  return { tracer: state.propagateOnly ? new PropagatingTracer() : trace.getTracer(options.serviceName), flush, shutdown };
};
