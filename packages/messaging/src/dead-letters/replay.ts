import { isUuid } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import type { Publisher } from "../outbox.ts";

export class DeadLetterNotFoundError extends Error {
  override readonly name = "DeadLetterNotFoundError";
  constructor(readonly id: string) {
    super(`dead letter ${id} does not exist`);
  }
}

export class DeadLetterNotReplayableError extends Error {
  override readonly name = "DeadLetterNotReplayableError";
  constructor(readonly id: string, reason: string) {
    super(`dead letter ${id} cannot be replayed: ${reason}`);
  }
}

/** `Nats-*` headers steer JetStream (the message id above all); the replay sets its own. */
const replayHeaders = (stored: unknown): Record<string, string> => {
  if (typeof stored !== "object" || stored === null) return {};
  const headers: Record<string, string> = {};
  for (const [key, values] of Object.entries(stored)) {
    if (key.toLowerCase().startsWith("nats-")) continue;
    const list = (Array.isArray(values) ? values : [values]).filter((value): value is string => typeof value === "string");
    if (list.length > 0) headers[key] = list.join(",");
  }
  return headers;
};

/**
 * Republishes a dead letter's original subject, headers and payload as a new message with
 * `Nats-Msg-Id` = `<id>:replay:<n>`; resolves to its stream sequence. A retry of the same replay
 * (same n) is dropped by JetStream's duplicate window and answers the first replay's sequence.
 */
export async function replayDeadLetter(deps: { db: Db; publisher: Publisher }, id: string): Promise<number> {
  if (!isUuid(id)) throw new DeadLetterNotFoundError(id);
  const letter = await deps.db.deadLetter.findUnique({
    where: { id },
    select: { subject: true, headers: true, payload: true, replayCount: true },
  });
  if (!letter) throw new DeadLetterNotFoundError(id);
  // Only a row stored without its original message has no subject (the JetStream advisory capture of
  // earlier versions wrote those when the message had already left its stream).
  if (letter.subject === "") throw new DeadLetterNotReplayableError(id, "its original message was no longer in the stream");

  const replay = letter.replayCount + 1;
  const ack = await deps.publisher.publish(letter.subject, letter.payload, {
    msgId: `${id}:replay:${replay}`,
    headers: replayHeaders(letter.headers),
  });
  // Counted after the publish: a failed publish leaves the count alone and the next call reuses n.
  await deps.db.deadLetter.updateMany({
    where: { id, replayCount: letter.replayCount },
    data: { replayCount: replay, replayedAt: new Date() },
  });
  return ack.seq;
}
