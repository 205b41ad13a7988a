import { ROOT_CONTEXT, TraceFlags, propagation, trace, type Context } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { extractTraceContext, indexHeaders, injectTraceContext, natsHeaderAppender, type NatsHeaders } from "./nats-headers.ts";

/** Behaves like nats.js v3 MsgHdrs for the calls propagation makes: missing keys read as "". */
class MsgHeaders implements NatsHeaders {
  readonly #values = new Map<string, string>();
  get(key: string): string {
    return this.#values.get(key) ?? "";
  }
  set(key: string, value: string): void {
    this.#values.set(key, value);
  }
  keys(): string[] {
    return [...this.#values.keys()];
  }
}

const producerContext = (): Context =>
  trace.setSpan(
    ROOT_CONTEXT,
    trace.wrapSpanContext({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: TraceFlags.SAMPLED }),
  );

describe("trace context in NATS headers", () => {
  it("survives inject then extract with the same trace and parent span", () => {
    const headers = new MsgHeaders();
    injectTraceContext(headers, producerContext());

    expect(headers.get("traceparent")).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const extracted = trace.getSpanContext(extractTraceContext(headers));
    expect(extracted).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  it("carries baggage alongside the trace", () => {
    const headers = new MsgHeaders();
    const ctx = propagation.setBaggage(producerContext(), propagation.createBaggage({ tenant: { value: "t_abc" } }));
    injectTraceContext(headers, ctx);
    expect(propagation.getBaggage(extractTraceContext(headers))?.getEntry("tenant")?.value).toBe("t_abc");
  });

  it("appends through natsHeaderAppender, for fresh headers", () => {
    const appended: [string, string][] = [];
    const headers = Object.assign(new MsgHeaders(), { append: (key: string, value: string) => appended.push([key, value]) });
    injectTraceContext(headers, producerContext(), natsHeaderAppender);
    expect(appended).toEqual([["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]]);
  });

  it("writes nothing when no span is active", () => {
    const headers = new MsgHeaders();
    injectTraceContext(headers, ROOT_CONTEXT);
    expect(headers.keys()).toEqual([]);
  });

  it("reads a traceparent whose header name changed case on the way", () => {
    const headers = new MsgHeaders();
    headers.set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect(trace.getSpanContext(extractTraceContext(headers))?.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("extracts no parent from a message published without trace context", () => {
    expect(trace.getSpanContext(extractTraceContext(new MsgHeaders()))).toBeUndefined();
  });
});

describe("indexHeaders", () => {
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  it("reads iterable headers (nats.js MsgHdrs) in one pass, lowercase names, first values", () => {
    const entries: [string, string[]][] = [
      ["Nats-Msg-Id", ["outbox-1", "outbox-2"]],
      ["traceparent", [traceparent]],
    ];
    const index = indexHeaders(entries);
    expect(index.get("nats-msg-id")).toBe("outbox-1");
    expect(trace.getSpanContext(extractTraceContext(index))?.spanId).toBe("00f067aa0ba902b7");
  });

  it("prefers the exact lowercase name over another spelling, in either order", () => {
    const other = "00-11111111111111111111111111111111-2222222222222222-01";
    for (const entries of [
      [["Traceparent", [other]], ["traceparent", [traceparent]]],
      [["traceparent", [traceparent]], ["TRACEPARENT", [other]]],
    ] as [string, string[]][][]) {
      expect(trace.getSpanContext(extractTraceContext(indexHeaders(entries)))?.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    }
  });
});
