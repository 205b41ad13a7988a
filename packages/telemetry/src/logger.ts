import { hostname } from "node:os";
import { context, isSpanContextValid, trace } from "@opentelemetry/api";
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  service: string;
  /** pino level name; default "info". */
  level?: string;
  /** Where JSON lines go; default stdout. Tests pass a stream that collects lines. */
  destination?: DestinationStream;
}

/**
 * Keys that hold credentials or customer speech. Transcript text is personal data: it belongs in
 * Postgres, never in a log pipeline with a different retention and audience.
 */
export const REDACTED_PATHS: readonly string[] = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "headers.cookie",
  "*.headers.cookie",
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  "apiKey",
  "*.apiKey",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "token",
  "*.token",
  "transcript",
  "*.transcript",
  "text",
  "*.text",
];

/** Adds the active span's ids so a log line can be opened as its trace. */
const traceCorrelation = (): Record<string, string> => {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: spanContext.traceFlags.toString(16).padStart(2, "0"),
  };
};

export const createLogger = (options: LoggerOptions): Logger => {
  const config = {
    level: options.level ?? "info",
    base: { service: options.service, pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    mixin: traceCorrelation,
    redact: { paths: [...REDACTED_PATHS], censor: "[redacted]" },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
};
