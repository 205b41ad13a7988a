import { hostname } from "node:os";
import { context, isSpanContextValid, trace } from "@opentelemetry/api";
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  service: string;
  /** pino level name; default "info". */
  level?: string;
  /**
   * Where JSON lines go. Default: the file named by CALLFLOW_LOG_FILE when it is set (the CLI's local
   * runs, so a person reads progress rather than log lines), otherwise stdout. Tests pass a stream.
   */
  destination?: DestinationStream;
}

/** One appending stream per file, shared by the loggers of one process (the CLI runs every service). */
const fileDestinations = new Map<string, DestinationStream>();
const fileDestination = (path: string): DestinationStream => {
  let destination = fileDestinations.get(path);
  if (!destination) {
    destination = pino.destination({ dest: path, mkdir: true, append: true, sync: true });
    fileDestinations.set(path, destination);
  }
  return destination;
};

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
  const logFile = process.env.CALLFLOW_LOG_FILE;
  const destination = options.destination ?? (logFile ? fileDestination(logFile) : undefined);
  return destination ? pino(config, destination) : pino(config);
};
