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

/**
 * W3C trace context and baggage, used directly rather than through the global propagator: a service
 * started with OTEL_SDK_DISABLED still forwards its caller's trace to the next stage.
 */
export const w3cPropagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

/** Adds a value under a key the headers do not hold yet, skipping `set`'s search for one to replace. */
export const natsHeaderAppender: TextMapSetter<NatsHeaders & { append(key: string, value: string): void }> = {
  set: (headers, key, value) => headers.append(key, value),
};

/**
 * Writes `traceparent` (and `tracestate`, `baggage`) of `ctx` into outgoing message headers. Pass
 * `natsHeaderAppender` when the headers are known to hold none of those keys.
 */
export const injectTraceContext = <H extends NatsHeaders>(headers: H, ctx: Context = context.active(), setter: TextMapSetter<H> = natsHeaderSetter): void => {
  w3cPropagator.inject(ctx, headers, setter);
};

/**
 * A message's headers by lowercase name, first value of each, read in one pass. An exact (lowercase,
 * as W3C writes them) name wins over another spelling of it.
 */
export type HeaderIndex = ReadonlyMap<string, string>;

/**
 * Indexes headers once, for extractTraceContext and for the caller's own reads (`nats-msg-id`).
 * nats.js `MsgHdrs` is iterated directly: each of its `get` calls copies and filters every key.
 */
export const indexHeaders = (headers: NatsHeaders | Iterable<[string, string[]]>): HeaderIndex => {
  const index = new Map<string, string>();
  if (Symbol.iterator in headers) for (const [key, values] of headers) addToIndex(index, key, values[0]);
  else for (const key of headers.keys()) addToIndex(index, key, headers.get(key) || undefined);
  return index;
};

const addToIndex = (index: Map<string, string>, key: string, value: string | undefined): void => {
  const lower = key.toLowerCase();
  if (value !== undefined && (key === lower || !index.has(lower))) index.set(lower, value);
};

const indexGetter: TextMapGetter<HeaderIndex> = {
  keys: (index) => [...index.keys()],
  get: (index, key) => index.get(key.toLowerCase()),
};

/**
 * Reads the producer's trace context from a delivered message's headers (or their index). Starts
 * from the root context by default so a consumer's span never inherits whatever the consume loop
 * happened to run in.
 */
export const extractTraceContext = (headers: NatsHeaders | HeaderIndex, base: Context = ROOT_CONTEXT): Context =>
  w3cPropagator.extract(base, headers instanceof Map ? headers : indexHeaders(headers as NatsHeaders), indexGetter);
