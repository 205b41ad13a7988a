import { ROOT_CONTEXT, TraceFlags, trace, type Context } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { linkFromTraceparent, traceparentOf } from "./span-links.ts";

const spanContext = (): Context =>
  trace.setSpan(
    ROOT_CONTEXT,
    trace.wrapSpanContext({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: TraceFlags.SAMPLED }),
  );

describe("stored traceparents", () => {
  it("turn back into a link to the same span", () => {
    const stored = traceparentOf(spanContext());
    expect(stored).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");

    const link = linkFromTraceparent(stored ?? "", { "callflow.chunk.index": 3 });
    expect(link?.context).toMatchObject({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" });
    expect(link?.attributes).toEqual({ "callflow.chunk.index": 3 });
  });

  it("give no link when the stored text is not a traceparent", () => {
    expect(linkFromTraceparent("")).toBeUndefined();
    expect(linkFromTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).toBeUndefined();
    expect(linkFromTraceparent("not-a-traceparent")).toBeUndefined();
  });

  it("are absent outside a span", () => {
    expect(traceparentOf(ROOT_CONTEXT)).toBeUndefined();
  });
});
