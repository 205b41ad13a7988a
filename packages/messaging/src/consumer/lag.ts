import type { JetStreamManager } from "@nats-io/jetstream";
import type { CallflowMetrics, Logger } from "@callflow/telemetry";

export interface LagWatchOptions {
  jsm: JetStreamManager;
  stream: string;
  durable: string;
  /** What this process declared, to notice a consumer changed on the server after start. */
  maxDeliver: number;
  filterSubject: string;
  everyMs: number;
  metrics: Pick<CallflowMetrics, "consumerLag"> | undefined;
  log: Logger;
}

/** Reads the consumer's lag from the server now and every `everyMs`; returns what stops it. */
export function watchLag(options: LagWatchOptions): () => void {
  const { jsm, stream, durable, log } = options;
  const poll = async (): Promise<void> => {
    try {
      const info = await jsm.consumers.info(stream, durable);
      options.metrics?.consumerLag.set({ stream, consumer: durable }, info.num_pending + info.num_ack_pending);
      if (info.config.max_deliver !== options.maxDeliver || info.config.filter_subject !== options.filterSubject) {
        log.error(
          { serverMaxDeliver: info.config.max_deliver, serverFilter: info.config.filter_subject, declaredMaxDeliver: options.maxDeliver },
          "consumer configuration changed on the server since start; restart to have it checked",
        );
      }
    } catch (error) {
      log.debug({ err: error }, "consumer lag not read");
    }
  };
  const timer = setInterval(() => void poll(), options.everyMs);
  timer.unref();
  void poll();
  return () => clearInterval(timer);
}
