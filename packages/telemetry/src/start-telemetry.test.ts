import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { context, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it, vi } from "vitest";
import { contextWithSpan } from "./propagating-tracer.ts";
import { startTelemetry } from "./start-telemetry.ts";

afterEach(() => {
  vi.unstubAllEnvs();
});

/** A local OTLP/HTTP receiver that records what exporters post to it. */
const startCollector = async () => {
  const requests: { path: string; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      requests.push({ path: req.url ?? "", body: Buffer.concat(chunks).toString("latin1") });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

const clearOtelEnv = () => {
  for (const name of ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_TRACES_SAMPLER"]) {
    vi.stubEnv(name, undefined);
  }
};

describe("startTelemetry", () => {
  it("gives every service of a process the same SDK until the last one shuts down", async () => {
    clearOtelEnv();
    const exporter = new InMemorySpanExporter();
    const ingest = startTelemetry({ serviceName: "ingest", spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const merge = startTelemetry({ serviceName: "merge" });

    ingest.tracer.startSpan("accept upload").end();
    merge.tracer.startSpan("merge call").end();
    await ingest.shutdown();
    merge.tracer.startSpan("verify merged file").end();
    await merge.flush();

    expect(exporter.getFinishedSpans().map((span) => [span.name, span.instrumentationScope.name])).toEqual([
      ["accept upload", "ingest"],
      ["merge call", "merge"],
      ["verify merged file", "merge"],
    ]);
    expect(exporter.getFinishedSpans()[0]?.resource.attributes["service.name"]).toBe("ingest");

    await merge.shutdown();
    expect(trace.getTracer("after").startSpan("late").isRecording()).toBe(false);
  });

  it("can start again after a full shutdown", async () => {
    clearOtelEnv();
    const first = startTelemetry({ serviceName: "cli" });
    await first.shutdown();
    await first.shutdown();

    const exporter = new InMemorySpanExporter();
    const second = startTelemetry({ serviceName: "cli", spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    second.tracer.startSpan("again").end();
    await second.flush();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(["again"]);
    await second.shutdown();
  });

  it("records nothing with no exporter configured, yet mints real ids for roots that logs and children share", async () => {
    clearOtelEnv();
    const telemetry = startTelemetry({ serviceName: "summary" });
    const span = telemetry.tracer.startSpan("summarize");
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
    expect(span.spanContext().spanId).toMatch(/^(?!0{16})[0-9a-f]{16}$/);
    const otherRoot = telemetry.tracer.startSpan("summarize");
    expect(otherRoot.spanContext().traceId).not.toBe(span.spanContext().traceId);

    // A child passes its parent's context on unchanged: the next hop's traceparent is the caller's.
    const child = telemetry.tracer.startSpan("extract", {}, trace.setSpan(context.active(), span));
    expect(child.isRecording()).toBe(false);
    expect(child.spanContext()).toEqual(span.spanContext());
    const parentContext = trace.setSpan(context.active(), span);
    expect(contextWithSpan(parentContext, telemetry.tracer.startSpan("extract", {}, parentContext))).toBe(parentContext);
    const active = telemetry.tracer.startActiveSpan("store", (inner) => [inner.spanContext(), trace.getActiveSpan()?.spanContext()]);
    expect(active[0]).toEqual(active[1]);
    const rootAnyway = telemetry.tracer.startSpan("sweep", { root: true }, trace.setSpan(context.active(), span));
    expect(rootAnyway.spanContext().traceId).not.toBe(span.spanContext().traceId);
    child.end();
    span.end();
    await telemetry.shutdown();
  });

  it("lets an explicit OTEL_TRACES_SAMPLER decide even with no exporter", async () => {
    clearOtelEnv();
    vi.stubEnv("OTEL_TRACES_SAMPLER", "always_on");
    const telemetry = startTelemetry({ serviceName: "summary" });
    const span = telemetry.tracer.startSpan("summarize");
    expect(span.isRecording()).toBe(true);
    span.end();
    await telemetry.shutdown();
  });

  it.each([
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "", "/v1/traces"],
    ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/collector/traces", "/collector/traces"],
  ])("exports over OTLP HTTP when %s is set", async (variable, suffix, expectedPath) => {
    clearOtelEnv();
    const collector = await startCollector();
    try {
      vi.stubEnv(variable, `${collector.url}${suffix}`);
      const telemetry = startTelemetry({ serviceName: "otlp-test" });
      telemetry.tracer.startSpan("transcribe chunk").end();
      await telemetry.shutdown();

      expect(collector.requests.map((request) => request.path)).toEqual([expectedPath]);
      expect(collector.requests[0]?.body).toContain("transcribe chunk");
      expect(collector.requests[0]?.body).toContain("otlp-test");
    } finally {
      await collector.close();
    }
  });

  it("prefers a passed exporter over the OTLP endpoint", async () => {
    clearOtelEnv();
    const collector = await startCollector();
    try {
      vi.stubEnv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url);
      const exporter = new InMemorySpanExporter();
      const telemetry = startTelemetry({ serviceName: "test", exporter });
      telemetry.tracer.startSpan("in memory").end();
      await telemetry.flush();
      expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(["in memory"]);
      await telemetry.shutdown();
      expect(collector.requests).toEqual([]);
    } finally {
      await collector.close();
    }
  });

  it("records nothing when OTEL_SDK_DISABLED is true", async () => {
    clearOtelEnv();
    vi.stubEnv("OTEL_SDK_DISABLED", "true");
    const exporter = new InMemorySpanExporter();
    const telemetry = startTelemetry({ serviceName: "disabled", spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const span = telemetry.tracer.startSpan("ignored");
    expect(span.isRecording()).toBe(false);
    span.end();
    await telemetry.flush();
    expect(exporter.getFinishedSpans()).toEqual([]);
    await telemetry.shutdown();
  });
});
