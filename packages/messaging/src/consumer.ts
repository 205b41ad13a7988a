import { SpanStatusCode, context, type Span, type Tracer } from "@opentelemetry/api";
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { decodeEvent, type ConsumerKey, type EventKey, type EventOf, type Topology, type consumers, type events } from "@callflow/contracts";
import { contextWithSpan, extractTraceContext, indexHeaders, startConsumerSpan, type CallflowMetrics, type HeaderIndex, type Logger } from "@callflow/telemetry";
import type { DeadLetterHook, DeadLetterReason, DeadLetterSink } from "./envelope.ts";
import { RetryableError, classifyError, describeError, type Outcome } from "./outcome.ts";
import { declareTopology, validateDeclaration, type ConsumerDeclaration, type TopologyOptions } from "./topology.ts";

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
  /** `Nats-Msg-Id` (the outbox id): the key of an inbox entry. */
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
  /** Messages pulled ahead; default `concurrency`. They age against ack_wait while they wait. */
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
  metrics?: Pick<CallflowMetrics, "deliveries" | "redeliveries" | "handlerDuration" | "deadLetters" | "consumerLag">;
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
  /** Stops pulling now, lets in-flight handlers finish within graceMs, then aborts their signal. */
  stop(graceMs: number): Promise<void>;
}

const DEFAULT_RETRY_BACKOFF_MS = [1_000, 5_000, 30_000, 60_000];
/** After the grace period, aborted handlers get this long to settle before their messages are left to ack_wait. */
const ABORT_SETTLE_MS = 2_000;

const sleep = (ms: number, until?: Promise<void>): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void until?.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Bounded concurrency: a slot per running handler. */
class Slots {
  #free: number;
  readonly #waiters: ((granted: boolean) => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  acquire(): Promise<boolean> | true {
    if (this.#free > 0) {
      this.#free -= 1;
      return true;
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  release(): void {
    const next = this.#waiters.shift();
    if (next) next(true);
    else this.#free += 1;
  }
  get saturated(): boolean {
    return this.#free === 0;
  }
  /** Wakes every waiter without a slot (shutdown). */
  refuseWaiters(): void {
    for (const waiter of this.#waiters.splice(0)) waiter(false);
  }
}

/** A message this process holds: heartbeated from the moment it leaves the subscription. */
class HeldMessage {
  readonly takenAt = Date.now();
  lastProgressAt = this.takenAt;
  /** Heartbeats stop: the handler finished, overran its timeout, or was abandoned at shutdown. */
  released = false;
  #controller: AbortController | undefined;
  #abortReason: unknown;

  constructor(readonly msg: JsMsg) {}

  /** Created on first use: most handlers never look at it, and it costs on every message. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  progress(now = Date.now()): void {
    if (this.released) return;
    this.lastProgressAt = now;
    this.msg.working();
  }
}

class MessageDelivery<K extends EventKey> implements Delivery<K> {
  readonly subject: string;
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  readonly lastDelivery: boolean;
  readonly streamSequence: number;

  constructor(
    readonly held: HeldMessage,
    readonly eventKey: K,
    readonly messageId: string | undefined,
    maxDeliver: number,
  ) {
    this.subject = held.msg.subject;
    this.deliveryCount = held.msg.info.deliveryCount;
    this.redelivered = this.deliveryCount > 1;
    this.lastDelivery = isLastDelivery(this.deliveryCount, maxDeliver);
    this.streamSequence = held.msg.info.streamSequence;
  }

  working(): void {
    this.held.progress();
  }

  get signal(): AbortSignal {
    return this.held.signal;
  }
}

/** JetStream's max_deliver of -1 (or 0) means unlimited: no delivery is the last. */
export const isLastDelivery = (deliveryCount: number, maxDeliver: number): boolean => maxDeliver > 0 && deliveryCount >= maxDeliver;

const NO_HEADERS: HeaderIndex = new Map();

const headersOf = (msg: JsMsg): Record<string, string[]> => {
  const result: Record<string, string[]> = {};
  for (const key of msg.headers?.keys() ?? []) result[key] = msg.headers!.values(key);
  return result;
};

const isNotFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError &&
  (error.code === JetStreamApiCodes.ConsumerNotFound || error.code === JetStreamApiCodes.StreamNotFound);

/**
 * The consume loop of one durable pull consumer: bounded concurrency, decode by subject, a consumer
 * span per message, heartbeats while handlers run, outcomes mapped to ack / nak(delay) / term with
 * dead letters, and a subscription that is recreated (and the consumer re-declared) when it fails.
 */
export async function startConsumer<C extends ConsumerKey>(options: StartConsumerOptions<C>): Promise<RunningConsumer> {
  validateDeclaration(options);
  const { nats, topology: t, key, deadLetters, logger, metrics, tracer } = options;
  const onDeadLetter = options.onDeadLetter as DeadLetterHook | undefined;
  const { stream, durable } = t.consumer(key);
  const js: JetStreamClient = jetstream(nats);
  const jsm: JetStreamManager = await jetstreamManager(nats);
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const prefetch = Math.max(1, Math.floor(options.prefetch ?? concurrency));
  const shortestDeadline = Math.min(options.ackWaitMs, ...(options.backoffMs ?? []));
  const heartbeatEveryMs = options.heartbeatEveryMs ?? Math.max(100, Math.floor(shortestDeadline / 3));
  const retryBackoffMs = options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
  const pullExpiresMs = options.pullExpiresMs ?? 10_000;
  const log = logger.child({ consumer: durable, stream });
  // Labelled children, created once, rather than a label object per message.
  const counted = metrics && {
    deliveries: metrics.deliveries.labels(key),
    redeliveries: metrics.redeliveries.labels(key),
    deadLetters: metrics.deadLetters.labels(key),
    handlerDuration: {
      ack: metrics.handlerDuration.labels(key, "ack"),
      retry: metrics.handlerDuration.labels(key, "retry"),
      dead: metrics.handlerDuration.labels(key, "dead"),
    },
  };

  const stats: ConsumerStats = { delivered: 0, acked: 0, retried: 0, deadLettered: 0, inFlight: 0, resubscribed: 0, bound: false };
  const slots = new Slots(concurrency);
  const held = new Set<HeldMessage>();
  let stopping = false;
  let stopped!: () => void;
  const whenStopping = new Promise<void>((resolve) => (stopped = resolve));
  let subscription: ConsumerMessages | undefined;
  let stallReason: string | undefined;

  // One ticker keeps every held message alive, rather than a timer per message.
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const entry of held) {
      if (entry.released) continue;
      if (options.handlerTimeoutMs !== undefined && now - entry.takenAt > options.handlerTimeoutMs) {
        entry.released = true;
        entry.abort(new RetryableError(`handler exceeded ${options.handlerTimeoutMs} ms`, { code: "handler_timeout" }));
        log.error({ streamSequence: entry.msg.seq, timeoutMs: options.handlerTimeoutMs }, "handler overran its timeout; heartbeats stop so the message is redelivered");
        continue;
      }
      if (now - entry.lastProgressAt >= heartbeatEveryMs) entry.progress(now);
    }
  }, Math.max(50, Math.floor(heartbeatEveryMs / 2)));
  ticker.unref();

  const settleNow = (msg: JsMsg, action: "ack" | "nak" | "term", delayMs?: number): void => {
    try {
      if (action === "ack") msg.ack();
      else if (action === "nak") msg.nak(delayMs);
      // Never term(reason): nats-server 2.9 does not parse "+TERM <reason>" and leaves the message pending.
      else msg.term();
    } catch (error) {
      log.warn({ err: error, streamSequence: msg.seq, action }, "could not settle the message; JetStream redelivers it after ack_wait");
    }
  };

  // Acks are gathered until the event loop's next turn and written together: nats.js writes each
  // publish made from a separate continuation with its own socket write, and that write, not the
  // handler, was most of the cost of a short message.
  let pendingSettlements: [JsMsg, "ack" | "nak" | "term", number | undefined][] = [];
  let settleScheduled: NodeJS.Immediate | undefined;
  const flushSettlements = (): void => {
    settleScheduled = undefined;
    const batch = pendingSettlements;
    pendingSettlements = [];
    for (const [msg, action, delayMs] of batch) settleNow(msg, action, delayMs);
  };
  const settle = (msg: JsMsg, action: "ack" | "nak" | "term", delayMs?: number): void => {
    pendingSettlements.push([msg, action, delayMs]);
    settleScheduled ??= setImmediate(flushSettlements);
  };

  const retryDelay = (deliveryCount: number): number =>
    retryBackoffMs[Math.min(deliveryCount - 1, retryBackoffMs.length - 1)] ?? 1_000;

  /** Stores the dead letter, then terms; if nothing could be stored, naks so a later delivery (or the advisory capture) tries again. */
  const deadLetter = async (msg: JsMsg, reason: DeadLetterReason, errorCode: string, errorMessage: string): Promise<boolean> => {
    try {
      await deadLetters.record({
        stream,
        consumer: durable,
        subject: msg.subject,
        streamSequence: msg.info.streamSequence,
        headers: headersOf(msg),
        payload: msg.data,
        deliveryCount: msg.info.deliveryCount,
        reason,
        errorCode,
        errorMessage,
      }, onDeadLetter);
    } catch (error) {
      log.error({ err: error, streamSequence: msg.seq, reason, errorCode }, "dead letter could not be stored; the message stays in JetStream");
      settle(msg, "nak", retryDelay(msg.info.deliveryCount));
      return false;
    }
    stats.deadLettered += 1;
    counted?.deadLetters.inc();
    settle(msg, "term");
    return true;
  };

  /** Runs the handler in the message's consumer span and turns what happens into an outcome. */
  const handler = options.handler as unknown as ConsumerHandler;

  /**
   * Decodes, runs the handler and settles the message; runs with the consumer span as the active
   * context, and is the last step of a dispatched message (it never rejects).
   */
  const processInSpan = async (entry: HeldMessage, span: Span, messageId: string | undefined): Promise<void> => {
    const { msg } = entry;
    const { deliveryCount, streamSequence } = msg.info;
    try {
      const eventKey = t.eventForSubject(msg.subject);
      let event: EventOf<EventKey>;
      try {
        if (eventKey === undefined) throw new Error(`subject ${msg.subject} is not an event of the contract`);
        event = decodeEvent(eventKey, msg.data);
      } catch (error) {
        const code = eventKey === undefined ? "unknown_subject" : "undecodable";
        span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error) });
        span.setAttribute("callflow.outcome", "dead");
        log.warn({ streamSequence, subject: msg.subject, code, error: describeError(error) }, "undecodable message dead-lettered");
        await deadLetter(msg, "undecodable", code, describeError(error));
        return;
      }

      const started = performance.now();
      let outcome: Outcome;
      try {
        outcome = await handler(event as never, new MessageDelivery(entry, eventKey, messageId, options.maxDeliver) as never);
      } catch (error) {
        outcome = classifyError(error);
      }
      entry.released = true;
      const finalDelivery = isLastDelivery(deliveryCount, options.maxDeliver);
      const disposition = outcome.kind === "retry" && finalDelivery ? "dead" : outcome.kind;
      counted?.handlerDuration[disposition].observe((performance.now() - started) / 1_000);
      span.setAttribute("callflow.outcome", disposition);

      switch (outcome.kind) {
        case "ack":
          stats.acked += 1;
          settle(msg, "ack");
          return;
        case "dead":
          span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.code}: ${outcome.message}` });
          log.warn({ streamSequence, deliveryCount, errorCode: outcome.code, error: outcome.message }, "handler gave the message up");
          await deadLetter(msg, "terminated", outcome.code, outcome.message);
          return;
        case "retry": {
          span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.code}: ${outcome.message}` });
          if (outcome.unclassified) {
            log.error({ err: outcome.error, streamSequence, deliveryCount }, "handler failed with an unclassified error");
          } else if (outcome.error !== undefined) {
            log.warn({ streamSequence, deliveryCount, errorCode: outcome.code, error: outcome.message }, "handler failed; retrying");
          }
          if (finalDelivery) {
            await deadLetter(msg, "max_deliveries", outcome.code, outcome.message);
            return;
          }
          stats.retried += 1;
          settle(msg, "nak", outcome.afterMs ?? retryDelay(deliveryCount));
          return;
        }
      }
    } catch (error) {
      // Only a bug in this loop gets here; the message is left to ack_wait.
      log.error({ err: error, streamSequence: msg.seq }, "consume loop failed on a message");
    } finally {
      span.end();
      finished(entry);
    }
  };

  /** Opens the message's consumer span, child of the producer's context from the headers. */
  const handle = (entry: HeldMessage): void => {
    const { msg } = entry;
    const { deliveryCount, streamSequence } = msg.info;
    stats.delivered += 1;
    counted?.deliveries.inc();
    if (deliveryCount > 1) counted?.redeliveries.inc();

    const headers = msg.headers ? indexHeaders(msg.headers) : NO_HEADERS;
    const parent = extractTraceContext(headers);
    const messageId = headers.get("nats-msg-id") || undefined;
    const span = startConsumerSpan(tracer, {
      subject: msg.subject,
      consumerGroup: durable,
      deliveryCount,
      parent,
      messageId,
      streamSequence,
    });
    void context.with(contextWithSpan(parent, span), processInSpan, undefined, entry, span, messageId);
  };

  /** Called once per dispatched message, however it ended; wakes stop() when the last one is done. */
  let whenIdle: (() => void) | undefined;
  const finished = (entry: HeldMessage): void => {
    held.delete(entry);
    stats.inFlight -= 1;
    slots.release();
    if (stats.inFlight === 0) whenIdle?.();
  };

  const dispatch = (entry: HeldMessage): void => {
    stats.inFlight += 1;
    try {
      handle(entry);
    } catch (error) {
      // A bug before the handler's span began; the message is left to ack_wait.
      log.error({ err: error, streamSequence: entry.msg.seq }, "consume loop failed on a message");
      finished(entry);
    }
  };

  /** Gives a message back at once: it was pulled but will not be handled by this process. */
  const handBack = (entry: HeldMessage): void => {
    held.delete(entry);
    settle(entry.msg, "nak");
  };

  const watchStatus = async (messages: ConsumerMessages): Promise<void> => {
    for await (const status of messages.status()) {
      switch (status.type) {
        case "heartbeats_missed":
          // While every slot is busy no pull is outstanding, so the server sends no heartbeats.
          if (slots.saturated) break;
          log.warn({ missed: status.count }, "consumer heartbeats missed");
          // The client re-pulls after two missed heartbeats; if that did not help, start over.
          if (status.count >= 4 && !stallReason) {
            stallReason = `${status.count} heartbeats missed`;
            void messages.close();
          }
          break;
        case "consumer_deleted":
        case "consumer_not_found":
        case "stream_not_found":
          log.error({ status }, "consumer vanished; it will be declared again");
          break;
        case "exceeded_limits":
        case "no_responders":
          log.warn({ status }, "pull request refused");
          break;
        default:
          break;
      }
    }
  };

  const pollLag = async (): Promise<void> => {
    try {
      const info = await jsm.consumers.info(stream, durable);
      metrics?.consumerLag.set({ stream, consumer: durable }, info.num_pending + info.num_ack_pending);
      if (info.config.max_deliver !== options.maxDeliver || info.config.filter_subject !== t.consumer(key).filterSubject) {
        log.error(
          { serverMaxDeliver: info.config.max_deliver, serverFilter: info.config.filter_subject, declaredMaxDeliver: options.maxDeliver },
          "consumer configuration changed on the server since start; restart to have it checked",
        );
      }
    } catch (error) {
      log.debug({ err: error }, "consumer lag not read");
    }
  };
  const lagTimer = setInterval(() => void pollLag(), options.lagPollMs ?? 10_000);
  lagTimer.unref();
  void pollLag();

  const consumeOnce = async (): Promise<void> => {
    const consumer = await js.consumers.get(stream, durable);
    const messages = await consumer.consume({
      max_messages: prefetch,
      // Refill when a quarter is left, in batches of three quarters: nats.js's default refills at three
      // quarters, a pull request for every prefetch/4 messages, which costs more than short handlers.
      threshold_messages: Math.max(1, Math.floor(prefetch / 4)),
      expires: pullExpiresMs,
      abort_on_missing_resource: true,
    });
    subscription = messages;
    // Stopped while subscribing: close, and still drain the iterator below (close resolves only then).
    if (stopping) void messages.close();
    stallReason = undefined;
    stats.bound = true;
    void watchStatus(messages).catch(() => undefined);
    for await (const msg of messages) {
      const entry = new HeldMessage(msg);
      held.add(entry);
      if (stopping) {
        handBack(entry);
        continue;
      }
      const slot = slots.acquire();
      if (slot !== true && !(await slot)) {
        handBack(entry);
        continue;
      }
      if (stopping) {
        slots.release();
        handBack(entry);
        continue;
      }
      dispatch(entry);
    }
    if (!stopping) throw new Error(stallReason ?? "subscription ended");
  };

  const loop = (async () => {
    let failures = 0;
    while (!stopping) {
      try {
        await consumeOnce();
      } catch (error) {
        stats.bound = false;
        if (stopping) break;
        failures += 1;
        stats.resubscribed += 1;
        const delay = Math.min(200 * 2 ** (failures - 1), 10_000);
        log.warn({ err: error, attempt: failures, retryInMs: delay }, "consumer subscription failed; recreating it");
        await sleep(delay, whenStopping);
        if (stopping) break;
        try {
          await jsm.consumers.info(stream, durable);
        } catch (infoError) {
          if (isNotFound(infoError)) {
            try {
              await declareTopology(jsm, t, [options], { ...options.topologyOptions, logger: log });
              log.warn("consumer was missing and has been declared again");
            } catch (declareError) {
              log.error({ err: declareError }, "consumer could not be declared again");
            }
          }
        }
        continue;
      }
      failures = 0;
    }
    stats.bound = false;
  })();

  let stopRun: Promise<void> | undefined;
  const stop = (graceMs: number): Promise<void> => (stopRun ??= stopAfter(graceMs));
  const stopAfter = async (graceMs: number): Promise<void> => {
    stopping = true;
    stopped();
    clearInterval(lagTimer);
    slots.refuseWaiters();
    await subscription?.close().catch(() => undefined);
    await loop;

    const drained = stats.inFlight === 0 ? Promise.resolve(true) : new Promise<boolean>((resolve) => (whenIdle = () => resolve(true)));
    const allFinished = await Promise.race([drained, sleep(graceMs, drained.then(() => undefined)).then(() => false)]);
    if (!allFinished) {
      log.warn({ inFlight: stats.inFlight, graceMs }, "grace period over; aborting handlers still running");
      // A handler that throws signal.reason is retried, so another process takes the message over.
      for (const entry of held) entry.abort(new RetryableError("the process is shutting down", { code: "shutdown", retryAfterMs: 0 }));
      await Promise.race([drained, sleep(ABORT_SETTLE_MS, drained.then(() => undefined))]);
      for (const entry of held) entry.released = true;
    }
    clearInterval(ticker);
    clearImmediate(settleScheduled);
    flushSettlements();
  };

  return { durable, stats, stop };
}
