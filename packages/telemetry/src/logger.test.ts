import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";
import { startTelemetry, type Telemetry } from "./start-telemetry.ts";

const collectLines = () => {
  const lines: string[] = [];
  return {
    destination: { write: (line: string) => void lines.push(line) },
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    raw: () => lines.join(""),
  };
};

describe("createLogger", () => {
  let telemetry: Telemetry;
  beforeAll(() => {
    telemetry = startTelemetry({
      serviceName: "logger-test",
      spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })],
    });
  });
  afterAll(() => telemetry.shutdown());

  it("stamps every line with the service and, inside a span, its trace and span ids", () => {
    const out = collectLines();
    const logger = createLogger({ service: "transcription", destination: out.destination });

    const ids = telemetry.tracer.startActiveSpan("transcribe chunk", (span) => {
      logger.info({ chunkId: "c1" }, "transcribing");
      span.end();
      return span.spanContext();
    });

    const [line] = out.records();
    expect(line).toMatchObject({
      service: "transcription",
      level: "info",
      msg: "transcribing",
      chunkId: "c1",
      trace_id: ids.traceId,
      span_id: ids.spanId,
      trace_flags: "01",
    });
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("leaves trace ids out of lines written outside any span", () => {
    const out = collectLines();
    createLogger({ service: "ingest", destination: out.destination }).warn("no span here");
    const [line] = out.records();
    expect(line).toMatchObject({ service: "ingest", level: "warn" });
    expect(line).not.toHaveProperty("trace_id");
    expect(line).not.toHaveProperty("span_id");
  });

  it("never writes credentials or transcript text", () => {
    const out = collectLines();
    const logger = createLogger({ service: "ingest", destination: out.destination });

    logger.info(
      {
        authorization: "Bearer top-level-credential",
        headers: { authorization: "Bearer header-credential", cookie: "session=cookie-value" },
        req: { headers: { authorization: "Bearer nested-credential" } },
        apiKey: "api-key-value",
        provider: { apiKey: "provider-key-value", region: "eu" },
        password: "password-value",
        db: { password: "db-password-value" },
        secret: "secret-value",
        token: "token-value",
        transcript: "the caller said their account number",
        text: "top-level transcript text",
        chunk: { id: "c7", text: "chunk transcript text" },
      },
      "request received",
    );

    const raw = out.raw();
    for (const leaked of [
      "top-level-credential", "header-credential", "cookie-value", "nested-credential", "api-key-value",
      "provider-key-value", "password-value", "db-password-value", "secret-value", "token-value",
      "account number", "top-level transcript text", "chunk transcript text",
    ]) {
      expect(raw, leaked).not.toContain(leaked);
    }
    const [line] = out.records();
    expect(line).toMatchObject({
      authorization: "[redacted]",
      headers: { authorization: "[redacted]", cookie: "[redacted]" },
      provider: { apiKey: "[redacted]", region: "eu" },
      chunk: { id: "c7", text: "[redacted]" },
      transcript: "[redacted]",
    });
  });

  it("honours the level it is given", () => {
    const out = collectLines();
    const logger = createLogger({ service: "reaper", level: "warn", destination: out.destination });
    logger.info("dropped");
    logger.error("kept");
    expect(out.records().map((line) => line.msg)).toEqual(["kept"]);
  });
});
