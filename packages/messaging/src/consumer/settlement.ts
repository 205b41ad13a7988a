import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "@callflow/telemetry";
import type { ConsumerStats } from "../consumer.ts";
import type { DeadLetterHook, DeadLetterSink } from "../envelope.ts";
import { retryDelay, type DeadLetterDisposition, type Disposition } from "./dispatch.ts";

type Write = "ack" | "nak" | "term";

export interface SettlementOptions {
  stream: string;
  durable: string;
  deadLetters: DeadLetterSink;
  onDeadLetter: DeadLetterHook | undefined;
  retryBackoffMs: readonly number[];
  stats: ConsumerStats;
  deadLetterCount?: { inc(): void };
  log: Logger;
}

const headersOf = (msg: JsMsg): Record<string, string[]> => {
  const result: Record<string, string[]> = {};
  for (const key of msg.headers?.keys() ?? []) result[key] = msg.headers!.values(key);
  return result;
};

/**
 * Carries dispositions out on JetStream: ack, nak with its delay, or a dead letter stored through
 * the sink and then termed.
 */
export class Settlement {
  // Writes are gathered until the event loop's next turn and made together: nats.js writes each
  // publish made from a separate continuation with its own socket write, and that write, not the
  // handler, was most of the cost of a short message.
  #pending: [JsMsg, Write, number | undefined][] = [];
  #scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly options: SettlementOptions) {}

  /** Returns a promise only for a dead letter: the ack path stays synchronous. */
  apply(msg: JsMsg, disposition: Disposition): Promise<boolean> | undefined {
    switch (disposition.kind) {
      case "ack":
        this.options.stats.acked += 1;
        this.#write(msg, "ack");
        return undefined;
      case "nak":
        this.options.stats.retried += 1;
        this.#write(msg, "nak", disposition.delayMs);
        return undefined;
      case "deadLetter":
        return this.deadLetter(msg, disposition);
    }
  }

  /** Gives a message back at once: it was pulled but will not be handled by this process. */
  handBack(msg: JsMsg): void {
    this.#write(msg, "nak");
  }

  /**
   * Stores the dead letter, then terms. If nothing could be stored it naks, so a later delivery tries
   * again; after the last delivery there is none, and the reaper finds the entity (docs/design.md, invariant 7).
   */
  async deadLetter(msg: JsMsg, { reason, code, message }: DeadLetterDisposition): Promise<boolean> {
    const { stream, durable, deadLetters, onDeadLetter, retryBackoffMs, stats, log } = this.options;
    try {
      await deadLetters.record(
        {
          stream,
          consumer: durable,
          subject: msg.subject,
          streamSequence: msg.info.streamSequence,
          headers: headersOf(msg),
          payload: msg.data,
          deliveryCount: msg.info.deliveryCount,
          reason,
          errorCode: code,
          errorMessage: message,
        },
        onDeadLetter,
      );
    } catch (error) {
      log.error({ err: error, streamSequence: msg.seq, reason, errorCode: code }, "dead letter could not be stored; the message stays in JetStream");
      this.#write(msg, "nak", retryDelay(retryBackoffMs, msg.info.deliveryCount));
      return false;
    }
    stats.deadLettered += 1;
    this.options.deadLetterCount?.inc();
    this.#write(msg, "term");
    return true;
  }

  /** Makes every pending write now (shutdown). */
  flush(): void {
    clearImmediate(this.#scheduled);
    this.#flush();
  }

  #write(msg: JsMsg, action: Write, delayMs?: number): void {
    this.#pending.push([msg, action, delayMs]);
    this.#scheduled ??= setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#scheduled = undefined;
    const batch = this.#pending;
    this.#pending = [];
    for (const [msg, action, delayMs] of batch) this.#writeNow(msg, action, delayMs);
  };

  #writeNow(msg: JsMsg, action: Write, delayMs: number | undefined): void {
    try {
      if (action === "ack") msg.ack();
      else if (action === "nak") msg.nak(delayMs);
      // Never term(reason): nats-server 2.9 does not parse "+TERM <reason>" and leaves the message pending.
      else msg.term();
    } catch (error) {
      this.options.log.warn({ err: error, streamSequence: msg.seq, action }, "could not settle the message; JetStream redelivers it after ack_wait");
    }
  }
}
