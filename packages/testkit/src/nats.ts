import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { topology, type Topology } from "@callflow/contracts";
import { InfrastructureUnavailableError, START_NATS, uniqueSuffix } from "./env.ts";

export interface TestNamespace {
  namespace: string;
  topology: Topology;
  nats: NatsConnection;
  /** Deletes every stream of this namespace and closes the connection. */
  cleanup(): Promise<void>;
}

export async function connectTestNats(url: string): Promise<NatsConnection> {
  try {
    return await connect({ servers: url, timeout: 5_000, reconnect: true, maxReconnectAttempts: -1 });
  } catch (error) {
    throw new InfrastructureUnavailableError("NATS", url, error, START_NATS);
  }
}

/** A namespace of the test's own: its streams and subjects are invisible to every other test. */
export async function createTestNamespace(url: string): Promise<TestNamespace> {
  const nats = await connectTestNats(url);
  const namespace = `t_${uniqueSuffix()}`;
  const t = topology(namespace);
  return {
    namespace,
    topology: t,
    nats,
    cleanup: async () => {
      try {
        const jsm = await jetstreamManager(nats);
        const prefix = `${namespace.toUpperCase()}_`;
        for await (const name of jsm.streams.names()) {
          if (name.startsWith(prefix)) await jsm.streams.delete(name);
        }
      } finally {
        await nats.close();
      }
    },
  };
}
