import { JetStreamApiCodes, JetStreamApiError, type ConsumerMessages, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { Topology } from "@callflow/contracts";
import type { Logger } from "@callflow/telemetry";
import type { ConsumerStats } from "../consumer.ts";
import { RetryableError } from "../outcome.ts";
import { declareTopology, type ConsumerDeclaration, type TopologyOptions } from "../topology.ts";
import type { HeldMessage, HeldMessages } from "./held-messages.ts";
import type { Settlement } from "./settlement.ts";
import type { Slots } from "./slots.ts";

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

const isNotFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError &&
  (error.code === JetStreamApiCodes.ConsumerNotFound || error.code === JetStreamApiCodes.StreamNotFound);

export interface SubscriptionOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  topology: Topology;
  /** Declared again if the consumer (or its stream) vanishes. */
  declaration: ConsumerDeclaration;
  topologyOptions: TopologyOptions | undefined;
  stream: string;
  durable: string;
  /** Messages pulled ahead of free slots; 0: each pull asks for the slots free now, and no more. */
  prefetch: number;
  pullExpiresMs: number;
  slots: Slots;
  held: HeldMessages;
  settlement: Settlement;
  stats: ConsumerStats;
  log: Logger;
  /** Takes a message that has a slot to its handler. */
  deliver(entry: HeldMessage): void;
}

/**
 * The pull subscription of one durable consumer: messages go to `deliver` as slots free up, and
 * the subscription is recreated (the consumer declared again if it vanished) when it fails or
 * stalls. `stop` stops pulling and lets in-flight handlers finish within a grace period.
 */
export class Subscription {
  #stopping = false;
  #wakeSleepers!: () => void;
  readonly #whenStopping = new Promise<void>((resolve) => (this.#wakeSleepers = resolve));
  #messages: ConsumerMessages | undefined;
  /** prefetch 0: the pull requests open now, each with the slots it was granted. */
  readonly #batches = new Set<ConsumerMessages>();
  #stallReason: string | undefined;
  #whenIdle: (() => void) | undefined;
  readonly #loop: Promise<void>;
  #markBound!: () => void;
  /** Resolves once the first subscription is open and pulling (or the subscription stopped). */
  readonly firstBound = new Promise<void>((resolve) => (this.#markBound = resolve));

  constructor(private readonly options: SubscriptionOptions) {
    this.#loop = this.#run();
    void this.#loop.finally(() => this.#markBound());
  }

  /** Called once per delivered message, however it ended; wakes `stop` when the last one is done. */
  finished(entry: HeldMessage): void {
    const { held, stats, slots } = this.options;
    held.drop(entry);
    stats.inFlight -= 1;
    slots.release();
    if (stats.inFlight === 0) this.#whenIdle?.();
  }

  /** Stops pulling now, lets in-flight handlers finish within graceMs, then aborts their signal. */
  async stop(graceMs: number): Promise<void> {
    const { slots, held, stats, log } = this.options;
    this.#stopping = true;
    this.#wakeSleepers();
    slots.refuseWaiters();
    await this.#messages?.close().catch(() => undefined);
    await Promise.all([...this.#batches].map((batch) => batch.close().catch(() => undefined)));
    await this.#loop;

    const drained = stats.inFlight === 0 ? Promise.resolve(true) : new Promise<boolean>((resolve) => (this.#whenIdle = () => resolve(true)));
    const allFinished = await Promise.race([drained, sleep(graceMs, drained.then(() => undefined)).then(() => false)]);
    if (allFinished) return;
    log.warn({ inFlight: stats.inFlight, graceMs }, "grace period over; aborting handlers still running");
    // A handler that throws signal.reason is retried, so another process takes the message over.
    held.abortAll(() => new RetryableError("the process is shutting down", { code: "shutdown", retryAfterMs: 0 }));
    await Promise.race([drained, sleep(ABORT_SETTLE_MS, drained.then(() => undefined))]);
    held.releaseAll();
  }

  async #run(): Promise<void> {
    const { jsm, topology, declaration, topologyOptions, stream, durable, stats, log } = this.options;
    let failures = 0;
    while (!this.#stopping) {
      try {
        if (this.options.prefetch === 0) await this.#fetchOnce();
        else await this.#consumeOnce();
      } catch (error) {
        stats.bound = false;
        if (this.#stopping) break;
        failures += 1;
        stats.resubscribed += 1;
        const delay = Math.min(200 * 2 ** (failures - 1), 10_000);
        log.warn({ err: error, attempt: failures, retryInMs: delay }, "consumer subscription failed; recreating it");
        await sleep(delay, this.#whenStopping);
        if (this.#stopping) break;
        try {
          await jsm.consumers.info(stream, durable);
        } catch (infoError) {
          if (isNotFound(infoError)) {
            try {
              await declareTopology(jsm, topology, [declaration], { ...topologyOptions, logger: log });
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
  }

  async #consumeOnce(): Promise<void> {
    const { js, stream, durable, prefetch, pullExpiresMs, held, slots, stats } = this.options;
    const consumer = await js.consumers.get(stream, durable);
    const messages = await consumer.consume({
      max_messages: prefetch,
      // Refill when a quarter is left, in batches of three quarters: nats.js's default refills at three
      // quarters, a pull request for every prefetch/4 messages, which costs more than short handlers.
      threshold_messages: Math.max(1, Math.floor(prefetch / 4)),
      expires: pullExpiresMs,
      abort_on_missing_resource: true,
    });
    this.#messages = messages;
    // Stopped while subscribing: close, and still drain the iterator below (close resolves only then).
    if (this.#stopping) void messages.close();
    this.#stallReason = undefined;
    stats.bound = true;
    this.#markBound();
    void this.#watchStatus(messages).catch(() => undefined);
    for await (const msg of messages) {
      // Held, and so heartbeated, from here: a message waiting for a slot ages against ack_wait too.
      const entry = held.take(msg);
      if (this.#stopping) {
        this.#handBack(entry);
        continue;
      }
      const slot = slots.acquire();
      if (slot !== true && !(await slot)) {
        this.#handBack(entry);
        continue;
      }
      if (this.#stopping) {
        slots.release();
        this.#handBack(entry);
        continue;
      }
      this.#dispatch(entry);
    }
    if (!this.#stopping) throw new Error(this.#stallReason ?? "subscription ended");
  }

  /**
   * prefetch 0: a pull request for exactly the slots free now, each message arriving with its slot,
   * so nothing waits in this process against ack_wait and a replica that joins gets the next
   * messages instead of a busy one's buffer. A request outstanding holds its slots until it is filled
   * or expires; a slot freed meanwhile makes a request of its own.
   */
  async #fetchOnce(): Promise<void> {
    const { js, stream, durable, pullExpiresMs, slots, stats } = this.options;
    const consumer = await js.consumers.get(stream, durable);
    stats.bound = true;
    this.#markBound();
    let failure: unknown;
    const requests: Promise<void>[] = [];
    while (!this.#stopping && failure === undefined) {
      // 0 once stopping or once a request failed: both refuse the waiter.
      const granted = await slots.acquireFree();
      if (granted === 0) break;
      const batch = await consumer.fetch({ max_messages: granted, expires: pullExpiresMs }).catch((error: unknown) => {
        slots.release(granted);
        throw error;
      });
      this.#batches.add(batch);
      if (this.#stopping) void batch.close();
      const taken = this.#takeBatch(batch, granted).catch((error: unknown) => {
        failure ??= error;
        slots.refuseWaiters();
      });
      requests.push(taken.finally(() => this.#batches.delete(batch)));
    }
    // One request failed: close the others, so their slots come back before the next subscription.
    await Promise.all([...this.#batches].map((batch) => batch.close().catch(() => undefined)));
    await Promise.all(requests);
    if (!this.#stopping) throw failure instanceof Error ? failure : new Error(String(failure ?? "subscription ended"));
  }

  async #takeBatch(batch: ConsumerMessages, granted: number): Promise<void> {
    const { held, slots } = this.options;
    let taken = 0;
    try {
      for await (const msg of batch) {
        const entry = held.take(msg);
        taken += 1;
        if (this.#stopping) {
          slots.release();
          this.#handBack(entry);
          continue;
        }
        this.#dispatch(entry);
      }
    } finally {
      slots.release(granted - taken);
    }
  }

  #dispatch(entry: HeldMessage): void {
    this.options.stats.inFlight += 1;
    try {
      this.options.deliver(entry);
    } catch (error) {
      // A bug before the handler's span began; the message is left to ack_wait.
      this.options.log.error({ err: error, streamSequence: entry.msg.seq }, "consume loop failed on a message");
      this.finished(entry);
    }
  }

  #handBack(entry: HeldMessage): void {
    this.options.held.drop(entry);
    this.options.settlement.handBack(entry.msg);
  }

  async #watchStatus(messages: ConsumerMessages): Promise<void> {
    const { slots, log } = this.options;
    for await (const status of messages.status()) {
      switch (status.type) {
        case "heartbeats_missed":
          // While every slot is busy no pull is outstanding, so the server sends no heartbeats.
          if (slots.saturated) break;
          log.warn({ missed: status.count }, "consumer heartbeats missed");
          // The client re-pulls after two missed heartbeats; if that did not help, start over.
          if (status.count >= 4 && !this.#stallReason) {
            this.#stallReason = `${status.count} heartbeats missed`;
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
  }
}
