import { defineConsumer, startWorker, workerBasics, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import { openStorage } from "@callflow/storage";
import { OUTPUT_FORMATS } from "./audio/output-format.ts";
import type { MergeConfig } from "./config.ts";
import { createMergeOnTranscribed, failMergeOnDeadLetter } from "./handler.ts";
import { createMergeStageRepo, type MergeStageRepo } from "./recordings/merge-stage-repo.ts";
import { objectStoreRecordings } from "./recordings/recording-storage.ts";

export { mergeConfigFromEnv, type MergeConfig } from "./config.ts";
export { mergedRecordingKey } from "./recordings/object-keys.ts";

export type MergeHandle = ServiceHandle;

export type StartOptions = ServiceStartOptions;

/** The merge worker: callTranscribed → one verified audio file per call and audio version → callMerged. */
export async function start(config: MergeConfig, options: StartOptions = {}): Promise<MergeHandle> {
  const storage = await openStorage(config.storage);
  let stages: MergeStageRepo | undefined;

  const worker = await startWorker({
    ...workerBasics("merge", config, options),
    release: () => storage.close(),
    // An ffmpeg run may be in flight at shutdown; it gets a while, then its stage is released or goes stale.
    graceMs: Math.min(config.ackWaitMs, 25_000),
    consumers: (workerContext) => {
      stages = createMergeStageRepo({ db: workerContext.db, topology: workerContext.topology, relay: workerContext.relay });
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
        logger: workerContext.logger,
      });
      return [
        defineConsumer({
          declaration: { key: "merge", ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver },
          // Long jobs: pull no more than can run, so nothing waits in the buffer against ack_wait.
          concurrency: config.concurrency,
          prefetch: config.concurrency,
          handler: (event, ctx) => merge(event, ctx),
          onDeadLetter: failMergeOnDeadLetter(stages),
        }),
      ];
    },
  });

  return {
    opsUrl: worker.opsUrl,
    context: worker.context,
    stop: worker.stop,
  };
}
