import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { encodeEvent, type EventInit, type EventKey, type Topology } from "@callflow/contracts";

/**
 * Publishes ledger events straight to JetStream, as the transcription worker's relay and ingest's
 * would. Every copy gets its own message id: a duplicate JetStream cannot drop (a re-drive, a replay).
 */
export const ledgerEventPublisher = (nats: NatsConnection, topology: Topology) => {
  const js = jetstream(nats);
  return <K extends EventKey>(key: K, init: EventInit<K>, msgId: string) =>
    js.publish(topology.subject(key), encodeEvent(key, init), { msgID: msgId });
};

export { jetstreamManager } from "@nats-io/jetstream";
