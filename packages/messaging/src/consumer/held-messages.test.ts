import { expect, test } from "vitest";
import type { JsMsg } from "@nats-io/jetstream";
import { createLogger } from "@callflow/telemetry";
import { RetryableError } from "../outcome.ts";
import { HeldMessages } from "./held-messages.ts";

/** A pulled message that counts its heartbeats (`working()`), which is all a held message uses. */
const pulled = (seq: number) => {
  const msg = { seq, beats: 0, working: () => void (msg.beats += 1) };
  return msg;
};

const log = createLogger({ service: "held-messages-test", level: "silent" });

/** Held messages whose own ticker is too slow to interfere: the test calls tick() with the time it means. */
const holding = (options: { heartbeatEveryMs: number; handlerTimeoutMs?: number }) => new HeldMessages({ ...options, log });

test("a held message is heartbeated once its last progress is heartbeatEveryMs old, not before", () => {
  const held = holding({ heartbeatEveryMs: 1_000 });
  try {
    const msg = pulled(1);
    const entry = held.take(msg as unknown as JsMsg);
    held.tick(entry.takenAt + 999);
    expect(msg.beats).toBe(0);
    held.tick(entry.takenAt + 1_000);
    expect(msg.beats).toBe(1);
    // The handler's own working() counts as progress and pushes the next heartbeat back.
    entry.progress(entry.takenAt + 1_500);
    expect(msg.beats).toBe(2);
    held.tick(entry.takenAt + 2_000);
    expect(msg.beats).toBe(2);
    held.tick(entry.takenAt + 2_500);
    expect(msg.beats).toBe(3);
  } finally {
    held.close();
  }
});

test("a handler past its timeout has its signal aborted as retryable, and its message is no longer heartbeated", () => {
  const held = holding({ heartbeatEveryMs: 1_000, handlerTimeoutMs: 5_000 });
  try {
    const msg = pulled(7);
    const entry = held.take(msg as unknown as JsMsg);
    const { signal } = entry;
    held.tick(entry.takenAt + 5_000);
    expect(signal.aborted).toBe(false);

    held.tick(entry.takenAt + 5_001);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(RetryableError);
    expect(signal.reason).toMatchObject({ code: "handler_timeout", message: "handler exceeded 5000 ms" });
    const beats = msg.beats;
    held.tick(entry.takenAt + 60_000);
    entry.progress();
    expect(msg.beats).toBe(beats);
  } finally {
    held.close();
  }
});

test("a signal first read after the abort is already aborted, with the reason given", () => {
  const held = holding({ heartbeatEveryMs: 1_000 });
  try {
    const [a, b] = [held.take(pulled(1) as unknown as JsMsg), held.take(pulled(2) as unknown as JsMsg)];
    let n = 0;
    held.abortAll(() => new Error(`shutdown ${++n}`));
    expect(a.signal.aborted && b.signal.aborted).toBe(true);
    expect([a.signal.reason.message, b.signal.reason.message]).toEqual(["shutdown 1", "shutdown 2"]);
    // A second abort keeps the first reason.
    a.abort(new Error("later"));
    expect(a.signal.reason.message).toBe("shutdown 1");
  } finally {
    held.close();
  }
});

test("released and dropped messages are not heartbeated", () => {
  const held = holding({ heartbeatEveryMs: 1_000 });
  try {
    const [kept, dropped] = [pulled(1), pulled(2)];
    const entry = held.take(kept as unknown as JsMsg);
    held.drop(held.take(dropped as unknown as JsMsg));
    held.releaseAll();
    held.tick(entry.takenAt + 10_000);
    expect([kept.beats, dropped.beats]).toEqual([0, 0]);
  } finally {
    held.close();
  }
});
