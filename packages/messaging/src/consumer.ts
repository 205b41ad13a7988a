import type { Tracer } from "@opentelemetry/api";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ConsumerKey, EventKey, EventOf, Topology, consumers, events } from "@callflow/contracts";
import type { CallflowMetrics, Logger } from "@callflow/telemetry";
import { createDeliver } from "./consumer/delivery.ts";
import { DEFAULT_RETRY_BACKOFF_MS } from "./consumer/dispatch.ts";
import { HeldMessages } from "./consumer/held-messages.ts";
import { watchLag } from "./consumer/lag.ts";
import { Settlement } from "./consumer/settlement.ts";
import { Slots } from "./consumer/slots.ts";
import { Subscription } from "./consumer/subscription.ts";
import type { DeadLetterHook, DeadLetterSink } from "./envelope.ts";
import type { Outcome } from "./outcome.ts";
import { validateDeclaration, type ConsumerDeclaration, type TopologyOptions } from "./topology.ts";

export { isLastDelivery } from "./consumer/dispatch.ts";

/** True when a subject is matched by a single-token-wildcard-free JetStream filter (`a.b.>` or exact). */
type FilterMatches<Subject extends string, Filter extends string> = Filter extends `${infer Prefix}.>`
  ? Subject extends `${Prefix}.${string}`
    ? true
    : false
  : Subject extends Filter
    ? true
    : false;

/** The events a consumer's filter subject delivers, e.g. the three `calls.ledger.*` events for `aggregator`. */
export type EventKeyFor<C extends ConsumerKey> = {
  [K in EventKey]: FilterMatches<(typeof events)[K]["subject"], (typeof consumers)[C]["filter"]> extends true ? K : never;
}[EventKey];

/** What a handler knows about the delivery besides the decoded event. */
export interface Delivery<K extends EventKey = EventKey> {
  subject: string;
  eventKey: K;
  /** `Nats-Msg-Id`: the outbox id of the event. */
  messageId: string | undefined;
  /** 1 on the first delivery. */
  deliveryCount: number;
  redelivered: boolean;
  /** This is the consumer's last delivery (max_deliver): a retry now dead-letters the message. */
  lastDelivery: boolean;
  streamSequence: number;
  /** Extends the ack deadline now; the loop already does so every ackWait/3 while the handler runs. */
  working(): void;
  /** Aborted when shutdown's grace period ends (or the handler overruns handlerTimeoutMs). */
  signal: AbortSignal;
}

export type ConsumerHandler<C extends ConsumerKey = ConsumerKey> = (
  event: EventOf<EventKeyFor<C>>,
  ctx: Delivery<EventKeyFor<C>>,
) => Promise<Outcome>;

export interface StartConsumerOptions<C extends ConsumerKey = ConsumerKey> extends ConsumerDeclaration {
  key: C;
  nats: NatsConnection;
  topology: Topology;
  handler: ConsumerHandler<C>;
  /** Handlers running at once in this process. */
  concurrency: number;
  /**
   * Messages pulled ahead; default `concurrency`. They age against ack_wait while they wait, and a
   * replica that joins cannot have them. 0: a pull asks only for the slots free now, so this process
   * holds no message it is not working on (long jobs, and workers scaled by their queue's lag).
   */
  prefetch?: number;
  /** Default: a third of the shortest ack deadline (ackWaitMs, backoffMs). */
  heartbeatEveryMs?: number;
  /** Aborts the handler's signal and stops its heartbeat (so JetStream redelivers) after this long. */
  handlerTimeoutMs?: number;
  /** Delay of a retry that names none, by delivery count (last entry repeats). */
  retryBackoffMs?: readonly number[];
  deadLetters: DeadLetterSink;
  /** Marks the entity of a message this consumer gives up on failed (invariant 4). */
  onDeadLetter?: DeadLetterHook<EventKeyFor<C>>;
  logger: Logger;
  metrics?: Pick<CallflowMetrics, "deliveries" | "redeliveries" | "queueWait" | "handlerDuration" | "deadLetters" | "consumerLag">;
  tracer: Tracer;
  /** Pull request lifetime; server heartbeats come every half of it. Default 10 s. */
  pullExpiresMs?: number;
  /** How often consumer lag is read from the server; default 10 s. */
  lagPollMs?: number;
  /** Used when a vanished consumer (or stream) is declared again. */
  topologyOptions?: TopologyOptions;
}

export interface ConsumerStats {
  delivered: number;
  acked: number;
  retried: number;
  deadLettered: number;
  inFlight: number;
  /** Times the subscription was recreated after it failed or stalled. */
  resubscribed: number;
  /** A subscription is open and pulling. */
  bound: boolean;
}

export interface RunningConsumer {
  readonly durable: string;
  readonly stats: Readonly<ConsumerStats>;
  /** Resolves once its first subscription is open and pulling (or it stopped first). */
  readonly bound: Promise<void>;
  /** Stops pulling now, lets in-flight handlers finish within graceMs, then aborts their signal. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The consume loop of one durable pull consumer, composed of its parts (src/consumer/): bounded
 * concurrency (Slots), heartbeats while handlers run (HeldMessages), a consumer span per message and
 * the handler's outcome decided (delivery, dispatch) and settled as ack / nak(delay) / dead letter
 * then term (Settlement), and a subscription that is recreated, and the consumer re-declared, when
 * it fails (Subscription).
 */
export async function startConsumer<C extends ConsumerKey>(options: StartConsumerOptions<C>): Promise<RunningConsumer> {
  validateDeclaration(options);
  const { nats, topology: t, key, metrics } = options;
  const { stream, durable, filterSubject } = t.consumer(key);
  const jsm = await jetstreamManager(nats);
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const prefetch = options.prefetch === 0 ? 0 : Math.max(1, Math.floor(options.prefetch ?? concurrency));
  const shortestDeadline = Math.min(options.ackWaitMs, ...(options.backoffMs ?? []));
  const heartbeatEveryMs = options.heartbeatEveryMs ?? Math.max(100, Math.floor(shortestDeadline / 3));
  const retryBackoffMs = options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
  const log = options.logger.child({ consumer: durable, stream });

  // Counted from 0, so "no redeliveries, no dead letters" shows as 0 rather than as no series at all.
  if (metrics) for (const counter of [metrics.deliveries, metrics.redeliveries, metrics.deadLetters]) counter.inc({ stage: key }, 0);
  const stats: ConsumerStats = { delivered: 0, acked: 0, retried: 0, deadLettered: 0, inFlight: 0, resubscribed: 0, bound: false };
  const slots = new Slots(concurrency);
  const held = new HeldMessages({ heartbeatEveryMs, handlerTimeoutMs: options.handlerTimeoutMs, log });
  const settlement = new Settlement({
    stream,
    durable,
    deadLetters: options.deadLetters,
    onDeadLetter: options.onDeadLetter as DeadLetterHook | undefined,
    retryBackoffMs,
    stats,
    deadLetterCount: metrics?.deadLetters.labels(key),
    log,
  });
  const deliver = createDeliver({
    topology: t,
    durable,
    handler: options.handler as unknown as ConsumerHandler,
    maxDeliver: options.maxDeliver,
    retryBackoffMs,
    settlement,
    stats,
    metrics: metrics && {
      deliveries: metrics.deliveries.labels(key),
      redeliveries: metrics.redeliveries.labels(key),
      queueWait: metrics.queueWait.labels(key),
      handlerDuration: {
        ack: metrics.handlerDuration.labels(key, "ack"),
        retry: metrics.handlerDuration.labels(key, "retry"),
        dead: metrics.handlerDuration.labels(key, "dead"),
      },
    },
    tracer: options.tracer,
    log,
    finished: (entry) => subscription.finished(entry),
  });
  const stopLag = watchLag({ jsm, stream, durable, maxDeliver: options.maxDeliver, filterSubject, everyMs: options.lagPollMs ?? 10_000, metrics, log });
  const subscription = new Subscription({
    js: jetstream(nats),
    jsm,
    topology: t,
    declaration: options,
    topologyOptions: options.topologyOptions,
    stream,
    durable,
    prefetch,
    pullExpiresMs: options.pullExpiresMs ?? 10_000,
    slots,
    held,
    settlement,
    stats,
    log,
    deliver,
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs: number): Promise<void> =>
    (stopping ??= (async () => {
      stopLag();
      await subscription.stop(graceMs);
      held.close();
      settlement.flush();
    })());
  return { durable, stats, bound: subscription.firstBound, stop };
}
