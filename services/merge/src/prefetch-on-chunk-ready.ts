import type { ChunkReady } from "@callflow/contracts";
import { ack, type Outcome } from "@callflow/messaging";
import type { Logger } from "@callflow/telemetry";
import type { PrefetchedInputs } from "./recordings/prefetched-inputs.ts";

/**
 * chunkReady → the chunk's object downloaded and probed ahead of its call's merge. An optimisation
 * only: whatever happens it acks (the merge fetches what is not prefetched), so it is never retried,
 * never dead-lettered, and holds no stage.
 *
 * Only while it keeps up: a chunk stored more than `freshForMs` ago means the prefetch is behind a
 * backlog, where it would only compete for the CPU with the stages ahead of the merge (the same work
 * the merge does anyway, at a worse moment); it lets that chunk go to the merge.
 */
export const createPrefetchOnChunkReady =
  (deps: {
    chunkObject(chunkId: string): Promise<{ objectKey: string; index: number; createdAt: Date } | null>;
    inputs: Pick<PrefetchedInputs, "prefetch">;
    freshForMs: number;
    now?: () => number;
    logger: Logger;
  }) =>
  async (event: Pick<ChunkReady, "chunkId">): Promise<Outcome> => {
    const now = deps.now ?? Date.now;
    try {
      const chunk = await deps.chunkObject(event.chunkId);
      if (chunk && now() - chunk.createdAt.getTime() <= deps.freshForMs) await deps.inputs.prefetch(chunk.objectKey, chunk.index);
    } catch (error) {
      deps.logger.debug({ err: error, chunkId: event.chunkId }, "merge input not prefetched; the merge fetches it");
    }
    return ack();
  };
