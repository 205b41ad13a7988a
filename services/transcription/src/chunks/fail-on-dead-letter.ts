import type { DeadLetterHook } from "@callflow/messaging";
import type { ChunkRepo } from "./chunk-repo.ts";

/**
 * chunkReady gave up (max deliveries, or a bug): the chunk fails with the reason and says so, so the
 * ledger can settle its call instead of waiting forever (invariants 2 and 4).
 */
export const failChunkOnDeadLetter =
  (chunks: Pick<ChunkRepo, "load" | "fail">): DeadLetterHook<"chunkReady"> =>
  async ({ chunkId }, failure) => {
    const chunk = await chunks.load(chunkId);
    if (!chunk) return;
    await chunks.fail(chunk, "any", { code: failure.errorCode, message: `${failure.reason}: ${failure.errorMessage}` }, new Date());
  };
