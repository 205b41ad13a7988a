import { ack, PermanentError, type ConsumerHandler, type DeadLetterHook } from "@callflow/messaging";
import type { DialQueue } from "../placement/dial-queue.ts";

/**
 * dialRequested → the dial reviewed (do-not-call, call window) and the placer woken. Postgres is the
 * queue: the event only says "look". A dial another replica took, or one already finished, is acked.
 */
export const createOnDialRequested = (deps: { queue: DialQueue; wake: () => void }): ConsumerHandler<"dialer"> =>
  async (event) => {
    if (!event.dialId) throw new PermanentError("dial_request_malformed", "dialRequested names no dialId (an older format?)");
    const review = await deps.queue.review(event.dialId);
    if (review === "waiting") deps.wake();
    return ack();
  };

/** A request given up on: its dial, when it names one still waiting, fails rather than waiting forever. */
export const failDialOnDeadLetter = (queue: DialQueue): DeadLetterHook<"dialRequested"> =>
  async (event, failure) => {
    if (!event.dialId) return;
    const dial = await queue.find(event.dialId).catch(() => null);
    if (!dial || (dial.status !== "queued" && dial.status !== "scheduled")) return;
    await queue.fail(dial, "dial_request_dead_lettered", `the dial's request was dead-lettered: ${failure.errorCode}: ${failure.errorMessage}`);
  };
