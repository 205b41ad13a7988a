import { defineConsumer, openRuntime, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import { openStorage } from "@callflow/storage";
import { OUTPUT_FORMATS } from "./audio/output-format.ts";
import type { MergeConfig } from "./config.ts";
import { createMergeOnTranscribed, failMergeOnDeadLetter } from "./handler.ts";
import { createMergeStageRepo } from "./recordings/merge-stage-repo.ts";
import { objectStoreRecordings } from "./recordings/recording-storage.ts";

export { mergeConfigFromEnv, type MergeConfig } from "./config.ts";
export { mergedRecordingKey } from "./recordings/object-keys.ts";

export type MergeHandle = ServiceHandle;

/** The merge worker: callTranscribed → one verified audio file per call and audio version → callMerged. */
export async function start(config: MergeConfig, options: ServiceStartOptions = {}): Promise<MergeHandle> {
  const runtime = await openRuntime({ service: "merge", config, ...options });
  const storage = await runtime.own("waiting for object storage", () => openStorage(config.storage), (opened) => opened.close());

  const stages = createMergeStageRepo({ db: runtime.db, topology: runtime.topology, relay: runtime.relay });
  const merge = createMergeOnTranscribed({
    stages,
    storage: objectStoreRecordings(storage.store),
    tools: config.tools,
    format: OUTPUT_FORMATS[config.outputFormat],
    tolerance: config.tolerance,
    deleteChunks: config.deleteChunks,
    heartbeatMs: config.heartbeatMs,
    staleAfterMs: config.staleAfterMs,
    workDir: config.workDir,
    logger: runtime.logger,
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
    ],
    // An ffmpeg run may be in flight at shutdown; it gets a while, then its stage is released or goes stale.
    graceMs: Math.min(config.ackWaitMs, 25_000),
  });
}
