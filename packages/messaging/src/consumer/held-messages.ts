import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "@callflow/telemetry";
import { RetryableError } from "../outcome.ts";

/** A message this process holds: heartbeated from the moment it leaves the subscription. */
export class HeldMessage {
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

export interface HeldMessagesOptions {
  /** A held message whose last sign of progress is this old gets a heartbeat (`working()`). */
  heartbeatEveryMs: number;
  /** Aborts the handler's signal and stops its heartbeats (so JetStream redelivers) after this long. */
  handlerTimeoutMs?: number;
  log: Logger;
}

/**
 * Every message this process holds, from the subscription until it is settled or handed back. One
 * ticker keeps them all alive, rather than a timer per message.
 */
export class HeldMessages {
  readonly #entries = new Set<HeldMessage>();
  readonly #ticker: NodeJS.Timeout;

  constructor(private readonly options: HeldMessagesOptions) {
    this.#ticker = setInterval(() => this.tick(), Math.max(50, Math.floor(options.heartbeatEveryMs / 2)));
    this.#ticker.unref();
  }

  take(msg: JsMsg): HeldMessage {
    const entry = new HeldMessage(msg);
    this.#entries.add(entry);
    return entry;
  }

  drop(entry: HeldMessage): void {
    this.#entries.delete(entry);
  }

  /** Heartbeats what is due and gives up on handlers past their timeout; the ticker calls it. */
  tick(now = Date.now()): void {
    const { heartbeatEveryMs, handlerTimeoutMs, log } = this.options;
    for (const entry of this.#entries) {
      if (entry.released) continue;
      if (handlerTimeoutMs !== undefined && now - entry.takenAt > handlerTimeoutMs) {
        entry.released = true;
        entry.abort(new RetryableError(`handler exceeded ${handlerTimeoutMs} ms`, { code: "handler_timeout" }));
        log.error({ streamSequence: entry.msg.seq, timeoutMs: handlerTimeoutMs }, "handler overran its timeout; heartbeats stop so the message is redelivered");
        continue;
      }
      if (now - entry.lastProgressAt >= heartbeatEveryMs) entry.progress(now);
    }
  }

  /** Aborts every held handler's signal, each with a reason of its own. */
  abortAll(reason: () => unknown): void {
    for (const entry of this.#entries) entry.abort(reason());
  }

  /** Stops every heartbeat: what is still held is left to ack_wait. */
  releaseAll(): void {
    for (const entry of this.#entries) entry.released = true;
  }

  close(): void {
    clearInterval(this.#ticker);
  }
}
