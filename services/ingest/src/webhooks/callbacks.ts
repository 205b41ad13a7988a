import { createHash, randomUUID } from "node:crypto";
import type { Prisma } from "@callflow/db";
import type { Commit } from "../calls/commit.ts";
import type { DialCallback } from "./twilio-dial-callback.ts";

export interface ProviderCallbackInput {
  provider: "twilio" | "assemblyai";
  /** Equal for a replay of the same callback: the record is written and announced once. */
  dedupKey: string;
  externalId: string | undefined;
  kind: string;
  payload: Prisma.InputJsonObject;
  /** A dial's status callback: announced as dialStatusChanged with the callback, if the dial exists. */
  dial?: DialCallback | undefined;
}

/**
 * Stores a provider's callback and queues providerCallbackReceived (and, for a dial's callback,
 * dialStatusChanged) in one transaction, before the provider gets its 2xx. A duplicate (retry,
 * replay) finds its key taken and changes nothing, so it is announced once.
 */
export const recordProviderCallback = (commit: Commit, input: ProviderCallbackInput): Promise<{ id: string | null; duplicate: boolean }> =>
  commit(async (tx, emit) => {
    const id = randomUUID();
    const { count } = await tx.providerCallback.createMany({
      data: [{ id, provider: input.provider, dedupKey: input.dedupKey, externalId: input.externalId ?? null, kind: input.kind, payload: input.payload }],
      skipDuplicates: true,
    });
    if (count === 0) return { id: null, duplicate: true };
    await emit("providerCallbackReceived", { callbackId: id, provider: input.provider });
    if (input.dial) {
      // The marker is signed with the URL, so it names a dial we placed; a dial deleted since announces nothing.
      const dial = await tx.dial.findUnique({ where: { id: input.dial.dialId }, select: { tenantId: true } });
      if (dial) await emit("dialStatusChanged", { tenantId: dial.tenantId, ...input.dial });
    }
    return { id, duplicate: false };
  });

/** A digest of the signed URL and parameters: what Twilio signs is what identifies the callback. */
export const digestOf = (url: string, params: Record<string, string>): string => {
  const hash = createHash("sha256").update(url);
  for (const key of Object.keys(params).sort()) hash.update(`\n${key}=${params[key]}`);
  return hash.digest("hex");
};
