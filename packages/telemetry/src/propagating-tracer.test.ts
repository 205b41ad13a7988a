import { ROOT_CONTEXT, TraceFlags, context, trace, type Span } from "@opentelemetry/api";
import { StackContextManager } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PropagatingTracer, contextWithSpan } from "./propagating-tracer.ts";

const remoteParent = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: TraceFlags.NONE,
  isRemote: true,
};

describe("PropagatingTracer", () => {
  const tracer = new PropagatingTracer();
  beforeAll(() => {
    context.setGlobalContextManager(new StackContextManager().enable());
  });
  afterAll(() => {
    context.disable();
  });

  it("passes a parent's context on unchanged and keeps the parent's context active", () => {
    const parentContext = trace.setSpanContext(ROOT_CONTEXT, remoteParent);
    const child = tracer.startSpan("process t.calls.chunk.ready", {}, parentContext);
    expect(child.spanContext()).toEqual(remoteParent);
    expect(child.isRecording()).toBe(false);
    expect(contextWithSpan(parentContext, child)).toBe(parentContext);
  });

  it("gives each root, and a span asked to be one, fresh valid ids", () => {
    const first = tracer.startSpan("a").spanContext();
    const second = tracer.startSpan("b", { root: true }, trace.setSpanContext(ROOT_CONTEXT, remoteParent)).spanContext();
    for (const ids of [first, second]) {
      expect(trace.isSpanContextValid(ids)).toBe(true);
      expect(ids.traceFlags).toBe(TraceFlags.NONE);
    }
    expect(second.traceId).not.toBe(first.traceId);
    expect(second.traceId).not.toBe(remoteParent.traceId);
  });

  it("never hands out a recording parent, so ending the child cannot end it", () => {
    let ended = false;
    const recording: Span = Object.assign(Object.create(trace.wrapSpanContext(remoteParent)) as Span, {
      isRecording: () => true,
      end: () => void (ended = true),
    });
    const child = tracer.startSpan("publish", {}, trace.setSpan(ROOT_CONTEXT, recording));
    child.end();
    expect(ended).toBe(false);
    expect(child.spanContext()).toEqual(remoteParent);
  });

  it("runs startActiveSpan's function with the span active, in each of its forms", () => {
    const parentContext = trace.setSpanContext(ROOT_CONTEXT, remoteParent);
    const seen = [
      tracer.startActiveSpan("one", (span) => trace.getActiveSpan() === span),
      tracer.startActiveSpan("two", {}, (span) => trace.getActiveSpan() === span),
      tracer.startActiveSpan("three", {}, parentContext, (span) => trace.getActiveSpan()?.spanContext() === span.spanContext() && span.spanContext().spanId),
    ];
    expect(seen).toEqual([true, true, remoteParent.spanId]);
  });
});
