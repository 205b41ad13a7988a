import {
  ROOT_CONTEXT,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  trace,
  type Attributes,
  type Context,
  type Link,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

const traceContextPropagator = new W3CTraceContextPropagator();

/**
 * The W3C `traceparent` of the span active in `ctx`, for storing beside a row whose processing is
 * finished later by someone else (the aggregator links every chunk's span this way).
 */
export const traceparentOf = (ctx: Context = context.active()): string | undefined => {
  const carrier: Record<string, string> = {};
  traceContextPropagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent;
};

/** A span Link to the span a stored `traceparent` names; undefined if the string is not one. */
export const linkFromTraceparent = (traceparent: string, attributes?: Attributes): Link | undefined => {
  const extracted = traceContextPropagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
  const spanContext = trace.getSpanContext(extracted);
  if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
  return attributes ? { context: spanContext, attributes } : { context: spanContext };
};
