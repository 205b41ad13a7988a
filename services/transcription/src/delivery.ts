/** What the handler needs from the message it is working on (the runtime's delivery context). */
export interface DeliveryContext {
  /** 1 on the first delivery. */
  deliveryCount: number;
  /** Aborted when the worker drains for shutdown. */
  signal: AbortSignal;
  /** Extends the message's ack deadline. */
  working(): void;
}

/** The handler's decision; the service maps it onto the runtime's outcomes (ack, retry). */
export type Verdict = { kind: "ack"; reason: string } | { kind: "retry"; afterMs: number; reason: string };

export const ack = (reason: string): Verdict => ({ kind: "ack", reason });
export const retryAfter = (afterMs: number, reason: string): Verdict => ({ kind: "retry", afterMs: Math.max(0, Math.round(afterMs)), reason });
