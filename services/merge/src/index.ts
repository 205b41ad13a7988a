import { randomUUID } from "node:crypto";
import path from "node:path";
import { defineConsumer, openRuntime, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import { openStorage } from "@callflow/storage";
import { OUTPUT_FORMATS } from "./audio/output-format.ts";
import type { MergeConfig } from "./config.ts";
import { createMergeOnTranscribed, failMergeOnDeadLetter } from "./handler.ts";
import { createPrefetchOnChunkReady } from "./prefetch-on-chunk-ready.ts";
import { createPrefetchedInputs } from "./recordings/prefetched-inputs.ts";
import { createMergeStageRepo } from "./recordings/merge-stage-repo.ts";
import { objectStoreRecordings } from "./recordings/recording-storage.ts";

export { mergeConfigFromEnv, type MergeConfig } from "./config.ts";
export { mergedRecordingKey } from "./recordings/object-keys.ts";

export type MergeHandle = ServiceHandle;

/** A prefetched input nobody took in this long belongs to a call that failed or merged elsewhere. */
const PREFETCH_MAX_AGE_MS = 15 * 60_000;
/** A chunk stored longer ago than this is left to the merge: the prefetch is behind a backlog. */
const PREFETCH_FRESH_FOR_MS = 2_000;
/** Downloads and probes at once: each a short ffprobe run, beside the merges' ffmpeg. */
const PREFETCH_CONCURRENCY = 2;

/** The merge worker: callTranscribed → one verified audio file per call and audio version → callMerged. */
export async function start(config: MergeConfig, options: ServiceStartOptions = {}): Promise<MergeHandle> {
  const runtime = await openRuntime({ service: "merge", config, ...options });
  const storage = await runtime.own("waiting for object storage", () => openStorage(config.storage), (opened) => opened.close());

  const stages = createMergeStageRepo({ db: runtime.db, topology: runtime.topology, relay: runtime.relay });
  const recordings = objectStoreRecordings(storage.store);
  // Inputs downloaded and probed as chunks arrive, so a merge starts at the concatenation.
  const prefetched =
    config.prefetchMaxBytes > 0
      ? await runtime.own(
          "preparing the prefetch directory",
          async () =>
            createPrefetchedInputs({
              storage: recordings,
              tools: config.tools,
              dir: path.join(config.workDir, `callflow-merge-prefetch-${randomUUID()}`),
              maxBytes: config.prefetchMaxBytes,
              maxAgeMs: PREFETCH_MAX_AGE_MS,
            }),
          (inputs) => inputs.close(),
        )
      : undefined;
  const merge = createMergeOnTranscribed({
    stages,
    storage: recordings,
    tools: config.tools,
    format: OUTPUT_FORMATS[config.outputFormat],
    tolerance: config.tolerance,
    deleteChunks: config.deleteChunks,
    heartbeatMs: config.heartbeatMs,
    staleAfterMs: config.staleAfterMs,
    workDir: config.workDir,
    logger: runtime.logger,
    ...(prefetched ? { prefetched } : {}),
  });

  return runtime.run({
    consumers: [
      defineConsumer({
        declaration: { key: "merge", ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver },
        // Long jobs: pull only for free slots, so nothing waits here against ack_wait and a replica
        // that joins takes the backlog's next messages.
        concurrency: config.concurrency,
        prefetch: 0,
        handler: merge,
        onDeadLetter: failMergeOnDeadLetter(stages),
      }),
      ...(prefetched
        ? [
            defineConsumer({
              declaration: { key: "mergePrefetch", ackWaitMs: 30_000, maxDeliver: 2 },
              concurrency: PREFETCH_CONCURRENCY,
              handler: createPrefetchOnChunkReady({
                chunkObject: (chunkId) => runtime.db.chunk.findUnique({ where: { id: chunkId }, select: { objectKey: true, index: true, createdAt: true } }),
                inputs: prefetched,
                freshForMs: PREFETCH_FRESH_FOR_MS,
                logger: runtime.logger,
              }),
            }),
          ]
        : []),
    ],
    // An ffmpeg run may be in flight at shutdown; it gets a while, then its stage is released or goes stale.
    graceMs: Math.min(config.ackWaitMs, 25_000),
  });
}
