import { expect, test } from "vitest";
import { encodeEvent, topology } from "@callflow/contracts";
import { ack, classifyError, dead, PermanentError, retry, RetryableError } from "../outcome.ts";
import { decide, decodeMessage, DEFAULT_RETRY_BACKOFF_MS, isLastDelivery, Undecodable } from "./dispatch.ts";

const BACKOFF = [100, 200, 400];

test("an ack is acked, on any delivery", () => {
  expect(decide(ack(), 1, 3, BACKOFF)).toEqual({ kind: "ack" });
  expect(decide(ack(), 3, 3, BACKOFF)).toEqual({ kind: "ack" });
});

test("a retry that names its delay is redelivered after that delay", () => {
  expect(decide(retry({ afterMs: 1_500 }), 1, 3, BACKOFF)).toEqual({ kind: "nak", delayMs: 1_500 });
  expect(decide(classifyError(new RetryableError("provider answered 429", { retryAfterMs: 0 })), 2, 3, BACKOFF)).toEqual({ kind: "nak", delayMs: 0 });
});

test("a retry that names no delay waits the backoff of its delivery count, the last entry repeating", () => {
  expect([1, 2, 3, 4, 9].map((deliveryCount) => decide(retry(), deliveryCount, 10, BACKOFF))).toEqual(
    [100, 200, 400, 400, 400].map((delayMs) => ({ kind: "nak", delayMs })),
  );
  expect(decide(retry(), 1, 10, DEFAULT_RETRY_BACKOFF_MS)).toEqual({ kind: "nak", delayMs: 1_000 });
  expect(decide(retry(), 1, 10, [])).toEqual({ kind: "nak", delayMs: 1_000 });
});

test("a retry on the last delivery is dead-lettered as max_deliveries with the retry's error", () => {
  const outcome = retry({ afterMs: 1_000, code: "provider_timeout", message: "no transcript within 90 s" });
  expect(decide(outcome, 3, 3, BACKOFF)).toEqual({ kind: "deadLetter", reason: "max_deliveries", code: "provider_timeout", message: "no transcript within 90 s" });
  // Past the limit too: a consumer whose max_deliver was lowered on the server.
  expect(decide(outcome, 4, 3, BACKOFF)).toMatchObject({ kind: "deadLetter", reason: "max_deliveries" });
});

test("dead() and a PermanentError are dead-lettered as terminated on the first delivery", () => {
  expect(decide(dead("unsupported_audio", "codec amr-wb is not supported"), 1, 3, BACKOFF)).toEqual({
    kind: "deadLetter",
    reason: "terminated",
    code: "unsupported_audio",
    message: "codec amr-wb is not supported",
  });
  expect(decide(classifyError(new PermanentError("chunk_missing", "chunk row does not exist")), 1, 3, BACKOFF)).toMatchObject({
    reason: "terminated",
    code: "chunk_missing",
  });
});

test("an unclassified error counts as retryable: redelivered, and dead-lettered with its name only on the last delivery", () => {
  const crash = classifyError(new TypeError("cannot read properties of undefined"));
  expect(decide(crash, 1, 3, BACKOFF)).toEqual({ kind: "nak", delayMs: 100 });
  expect(decide(crash, 3, 3, BACKOFF)).toEqual({
    kind: "deadLetter",
    reason: "max_deliveries",
    code: "unclassified",
    message: "TypeError: cannot read properties of undefined",
  });
});

test("the last delivery is the one that reaches max_deliver; -1 and 0 mean unlimited", () => {
  expect(isLastDelivery(1, 3)).toBe(false);
  expect(isLastDelivery(2, 3)).toBe(false);
  expect(isLastDelivery(3, 3)).toBe(true);
  expect(isLastDelivery(4, 3)).toBe(true);
  expect(isLastDelivery(1, 1)).toBe(true);
  expect(isLastDelivery(1_000, -1)).toBe(false);
  expect(isLastDelivery(1_000, 0)).toBe(false);
  expect(decide(retry(), 1_000, -1, BACKOFF)).toEqual({ kind: "nak", delayMs: 400 });
});

test("a message decodes to its event, or to a dead letter naming why it carries none", () => {
  const t = topology("dispatch_test");
  const subject = t.subject("chunkReady");
  expect(decodeMessage(t.eventForSubject(subject), subject, encodeEvent("chunkReady", { chunkId: "c1", chunkIndex: 2, attempt: 1 }))).toMatchObject({
    chunkId: "c1",
    chunkIndex: 2,
  });

  // Field 3 (chunk_id) announced as a string of 50 bytes that are not there.
  const garbage = decodeMessage(t.eventForSubject(subject), subject, new Uint8Array([0x1a, 0x32, 0x01]));
  expect(garbage).toBeInstanceOf(Undecodable);
  expect(garbage).toMatchObject({ kind: "deadLetter", reason: "undecodable", code: "undecodable" });

  const stray = `${t.namespace}.calls.transcribe.not_an_event`;
  expect(decodeMessage(t.eventForSubject(stray), stray, encodeEvent("chunkReady", { chunkId: "x" }))).toEqual(
    new Undecodable("unknown_subject", `subject ${stray} is not an event of the contract`),
  );
});
