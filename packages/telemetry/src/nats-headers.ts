import { ROOT_CONTEXT, context, type Context, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";

/**
 * The part of a NATS message's headers that trace propagation needs. nats.js v3 `MsgHdrs` fits it
 * (`get` answers "" for a missing key), so this package does not depend on a NATS client.
 */
export interface NatsHeaders {
  get(key: string): string;
  set(key: string, value: string): void;
  keys(): string[];
}

export const natsHeaderSetter: TextMapSetter<NatsHeaders> = {
  set: (headers, key, value) => headers.set(key, value),
};

export const natsHeaderGetter: TextMapGetter<NatsHeaders> = {
  keys: (headers) => headers.keys(),
  get: (headers, key) => {
    const exact = headers.get(key);
    if (exact) return exact;
    // Proxies and other clients may change header case; W3C keys are lowercase.
    const lower = key.toLowerCase();
    const match = headers.keys().find((candidate) => candidate.toLowerCase() === lower);
    return match === undefined ? undefined : headers.get(match) || undefined;
  },
};

/**
 * W3C trace context and baggage, used directly rather than through the global propagator: a service
 * started with OTEL_SDK_DISABLED still forwards its caller's trace to the next stage.
 */
export const w3cPropagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

/** Writes `traceparent` (and `tracestate`, `baggage`) of `ctx` into outgoing message headers. */
export const injectTraceContext = (headers: NatsHeaders, ctx: Context = context.active()): void => {
  w3cPropagator.inject(ctx, headers, natsHeaderSetter);
};

/**
 * Reads the producer's trace context from a delivered message. Starts from the root context by
 * default so a consumer's span never inherits whatever the consume loop happened to run in.
 */
export const extractTraceContext = (headers: NatsHeaders, base: Context = ROOT_CONTEXT): Context =>
  w3cPropagator.extract(base, indexHeaders(headers), indexedHeaderGetter);

/**
 * The headers with their keys indexed by lowercase once: the propagators ask for three keys, two
 * usually absent, and natsHeaderGetter would scan (and copy) every key for each miss.
 */
interface IndexedHeaders {
  readonly headers: NatsHeaders;
  readonly byLowercase: Map<string, string>;
}

const indexHeaders = (headers: NatsHeaders): IndexedHeaders => {
  const byLowercase = new Map<string, string>();
  for (const key of headers.keys()) {
    const lower = key.toLowerCase();
    // An exact (lowercase, as W3C writes them) key wins over another spelling.
    if (key === lower || !byLowercase.has(lower)) byLowercase.set(lower, key);
  }
  return { headers, byLowercase };
};

const indexedHeaderGetter: TextMapGetter<IndexedHeaders> = {
  keys: (carrier) => carrier.headers.keys(),
  get: (carrier, key) => {
    const match = carrier.byLowercase.get(key.toLowerCase());
    if (match === undefined) return undefined;
    if (match !== key) {
      const exact = carrier.headers.get(key);
      if (exact) return exact;
    }
    return carrier.headers.get(match) || undefined;
  },
};
