import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { Logger } from "@callflow/telemetry";

/**
 * The one NATS connection of a process. It outlives NATS restarts: it waits for the first connect,
 * reconnects forever, and says so in its logs and in `connected()` (readiness).
 */
export async function connectNats(url: string, service: string, logger: Logger): Promise<{ nats: NatsConnection; connected: () => boolean }> {
  const nats = await connect({
    servers: url,
    name: service,
    timeout: 5_000,
    // A worker outlives NATS restarts: it reconnects forever and says so in its logs and readiness.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    waitOnFirstConnect: true,
    // Otherwise every request and publish builds an Error to keep its async stack: a fifth of the
    // CPU of a publish-heavy process, for a trace only a failed request would show.
    noAsyncTraces: true,
  });
  let connected = true;
  void (async () => {
    for await (const status of nats.status()) {
      switch (status.type) {
        case "disconnect":
          connected = false;
          logger.warn({ server: status.server }, "NATS connection lost; reconnecting");
          break;
        case "reconnect":
          connected = true;
          logger.info({ server: status.server }, "NATS connection restored");
          break;
        case "error":
          logger.error({ err: status.error }, "NATS connection error");
          break;
        case "staleConnection":
          logger.warn("NATS connection stale");
          break;
        case "ldm":
          logger.info({ server: status.server }, "NATS server entering lame duck mode");
          break;
        default:
          break;
      }
    }
  })();
  return { nats, connected: () => connected && !nats.isClosed() };
}
