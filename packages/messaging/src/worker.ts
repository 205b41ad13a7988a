import type { Tracer } from "@opentelemetry/api";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { topology as topologyFor, type ConsumerKey, type Topology } from "@callflow/contracts";
import { createDb, waitForDatabase, type Db } from "@callflow/db";
import {
  createLogger,
  createMetrics,
  serveOps,
  startTelemetry,
  type CallflowMetrics,
  type Logger,
  type OpsServer,
  type ReadinessChecks,
  type TelemetryOptions,
} from "@callflow/telemetry";
import { startConsumer, type ConsumerHandler, type RunningConsumer } from "./consumer.ts";
import { createPostgresDeadLetterSink } from "./dead-letters/sink.ts";
import type { DeadLetterHook } from "./envelope.ts";
import type { EventKeyFor } from "./consumer.ts";
import { createOutboxRelay, type OutboxRelay } from "./outbox.ts";
import { createPublisher } from "./publisher.ts";
import { declareTopology, type ConsumerDeclaration, type TopologyOptions } from "./topology.ts";

/** What a service's handlers are built from: the worker's clients, created once. */
export interface WorkerContext {
  service: string;
  topology: Topology;
  db: Db;
  nats: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  publisher: ReturnType<typeof createPublisher>;
  /** Publishes the outbox rows of `commitWithEvents` right after commit; its sweeper runs in this worker. */
  relay: OutboxRelay;
  logger: Logger;
  metrics: CallflowMetrics;
  tracer: Tracer;
}

export interface ConsumerRegistration<C extends ConsumerKey = ConsumerKey> {
  declaration: ConsumerDeclaration & { key: C };
  handler: ConsumerHandler<C>;
  /** Declared beside the handler: what a message given up on does to its entity (invariant 4). */
  onDeadLetter?: DeadLetterHook<EventKeyFor<C>>;
  concurrency: number;
  prefetch?: number;
  handlerTimeoutMs?: number;
}

/** One registration per consumer key, each with the handler type its filter implies. */
export type AnyConsumerRegistration = { [C in ConsumerKey]: ConsumerRegistration<C> }[ConsumerKey];

/**
 * Types a registration's handler from its declaration's key (TypeScript cannot narrow a union by a
 * nested key): `defineConsumer({ declaration: { key: "merge", … }, handler: async (event, ctx) => …, concurrency: 2 })`.
 */
export const defineConsumer = <C extends ConsumerKey>(registration: ConsumerRegistration<C>): AnyConsumerRegistration =>
  registration as unknown as AnyConsumerRegistration;

export interface StartWorkerOptions {
  service: string;
  natsUrl: string;
  databaseUrl: string;
  /** Default `callflow`; tests pass their own. */
  namespace?: string;
  /** Port of /metrics, /healthz, /readyz; 0 picks a free one. */
  opsPort: number;
  opsHost?: string;
  /** The consumers, or a factory that builds their handlers from the worker's clients. */
  consumers: AnyConsumerRegistration[] | ((context: WorkerContext) => AnyConsumerRegistration[]);
  /** In-flight handlers get this long to finish at shutdown; default 25 s (Kubernetes waits 30 s). */
  graceMs?: number;
  /** Further named readiness checks; `true` when ready, `false` or a reason otherwise. */
  readiness?: Record<string, () => Promise<boolean | string>>;
  /** Exit on SIGTERM/SIGINT after stopping; default true. The CLI and tests pass false. */
  handleSignals?: boolean;
  /** Share one registry between the workers of one process (the all-in-one CLI). */
  metrics?: CallflowMetrics;
  logLevel?: string;
  telemetry?: Pick<TelemetryOptions, "spanProcessors" | "exporter">;
  topologyOptions?: Omit<TopologyOptions, "logger">;
  databasePoolSize?: number;
  /** How long to wait at start for an unreachable Postgres; default 3 minutes (waitForDatabase). */
  databaseWaitMs?: number;
  /** Start the outbox relay's sweeper here; default true (several processes may run it). */
  outboxSweeper?: boolean;
  /** Releases what the service opened before the worker (storage, a pool): after the worker stops, or if it fails to start. */
  release?: () => Promise<unknown>;
}

export interface Worker {
  readonly context: WorkerContext;
  readonly consumers: readonly RunningConsumer[];
  readonly opsUrl: string;
  /** Stops pulling, finishes in-flight work within the grace period, drains NATS, flushes telemetry. */
  stop(): Promise<void>;
}

/** How a service's `start(config, options)` is called by its main.ts, the CLI and tests. */
export interface ServiceStartOptions {
  /** Exit on SIGTERM/SIGINT; main.ts yes, the CLI and tests no. */
  handleSignals?: boolean;
  /** Share one registry between the services of one process (the CLI). */
  metrics?: CallflowMetrics;
}

/** What a worker service's `start` returns. */
export interface ServiceHandle {
  readonly opsUrl: string;
  /** The worker's clients (database, NATS, metrics), for the CLI and tests. */
  readonly context: WorkerContext;
  stop(): Promise<void>;
}

/** The startWorker options every service fills the same way from its configuration. */
export const workerBasics = (
  service: string,
  config: { databaseUrl: string; databasePoolSize: number; databaseWaitMs?: number; natsUrl: string; namespace: string; logLevel: string; opsPort: number },
  options: ServiceStartOptions,
): Pick<StartWorkerOptions, "service" | "natsUrl" | "databaseUrl" | "databasePoolSize" | "databaseWaitMs" | "namespace" | "opsPort" | "logLevel" | "handleSignals" | "metrics"> => ({
  service,
  natsUrl: config.natsUrl,
  databaseUrl: config.databaseUrl,
  databasePoolSize: config.databasePoolSize,
  databaseWaitMs: config.databaseWaitMs,
  namespace: config.namespace,
  opsPort: config.opsPort,
  logLevel: config.logLevel,
  handleSignals: options.handleSignals ?? false,
  ...(options.metrics ? { metrics: options.metrics } : {}),
});

const withTimeout = <T>(work: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

async function connectNats(url: string, service: string, logger: Logger): Promise<{ nats: NatsConnection; connected: () => boolean }> {
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

/**
 * The composition every worker service's main.ts calls: telemetry, logger and metrics; NATS and
 * Postgres; the migration and topology checks (refusing to start on drift); the consumers; the ops
 * endpoints; and an orderly stop on SIGTERM.
 */
export async function startWorker(options: StartWorkerOptions): Promise<Worker> {
  const { service } = options;
  const telemetry = startTelemetry({ serviceName: service, ...options.telemetry });
  const logger = createLogger({ service, ...(options.logLevel ? { level: options.logLevel } : {}) });
  const metrics = options.metrics ?? createMetrics({ service });
  const t = topologyFor(options.namespace);
  const graceMs = options.graceMs ?? 25_000;

  // Unwound in reverse: the service's own resources go last, after everything that might use them.
  const cleanups: (() => Promise<unknown>)[] = [...(options.release ? [options.release] : []), () => telemetry.shutdown()];
  const unwind = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => logger.warn({ err: error }, "cleanup failed"));
  };

  // The ops server comes first: /healthz answers while NATS and Postgres are awaited, and /readyz
  // says what start-up is waiting for until the consumers are bound.
  let phase = "connecting to NATS";
  let checks: (() => Promise<ReadinessChecks>) | undefined;
  let stopping: Promise<void> | undefined;
  const readiness = async (): Promise<ReadinessChecks> =>
    stopping ? { worker: "stopping" } : checks ? checks() : { startup: phase };

  try {
    const ops: OpsServer = await serveOps({ port: options.opsPort, ...(options.opsHost ? { host: options.opsHost } : {}), registry: metrics.registry, readiness });
    cleanups.push(() => ops.close());
    const { nats, connected } = await connectNats(options.natsUrl, service, logger);
    cleanups.push(() => nats.drain().catch(() => nats.close()));
    const db = createDb(options.databaseUrl, { poolSize: options.databasePoolSize ?? 5 });
    cleanups.push(() => db.$disconnect());

    phase = "waiting for Postgres";
    await waitForDatabase(db, { databaseUrl: options.databaseUrl, limitMs: options.databaseWaitMs, logger });
    const js = jetstream(nats);
    const jsm = await jetstreamManager(nats);
    const publisher = createPublisher({ js, tracer: telemetry.tracer });
    const relay = createOutboxRelay({ db, publisher, logger, metrics });
    const context: WorkerContext = { service, topology: t, db, nats, js, jsm, publisher, relay, logger, metrics, tracer: telemetry.tracer };

    const registrations = typeof options.consumers === "function" ? options.consumers(context) : options.consumers;
    phase = "declaring streams and consumers";
    const declared = await declareTopology(jsm, t, registrations.map((registration) => registration.declaration), { ...options.topologyOptions, logger });
    logger.info({ ...declared, namespace: t.namespace }, "topology checked");

    if (options.outboxSweeper !== false) {
      relay.start();
      cleanups.push(() => relay.stop());
    }

    // The consume loop counts dead letters itself, so its sink is given no metrics.
    const sink = createPostgresDeadLetterSink({ db, topology: t, relay, logger });

    const consumers: RunningConsumer[] = [];
    const stopConsumers = () => Promise.all(consumers.map((consumer) => consumer.stop(graceMs)));
    cleanups.push(stopConsumers);
    for (const registration of registrations) {
      consumers.push(
        await startConsumer({
          ...registration.declaration,
          nats,
          topology: t,
          handler: registration.handler as ConsumerHandler,
          concurrency: registration.concurrency,
          ...(registration.prefetch === undefined ? {} : { prefetch: registration.prefetch }),
          ...(registration.handlerTimeoutMs === undefined ? {} : { handlerTimeoutMs: registration.handlerTimeoutMs }),
          deadLetters: sink,
          ...(registration.onDeadLetter ? { onDeadLetter: registration.onDeadLetter as DeadLetterHook } : {}),
          logger,
          metrics,
          tracer: telemetry.tracer,
          ...(options.topologyOptions ? { topologyOptions: options.topologyOptions } : {}),
        }),
      );
    }

    checks = async (): Promise<ReadinessChecks> => {
      const extra = Object.entries(options.readiness ?? {});
      const [postgres, ...extraResults] = await Promise.all([
        withTimeout(db.$queryRaw`SELECT 1`, 1_500, "postgres").then(
          () => true as const,
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        ),
        ...extra.map(([, check]) => check().catch((error: unknown) => (error instanceof Error ? error.message : String(error)))),
      ]);
      const unbound = consumers.filter((consumer) => !consumer.stats.bound).map((consumer) => consumer.durable);
      return {
        nats: connected() || "disconnected",
        postgres: postgres ?? "no answer",
        consumers: unbound.length === 0 || `not bound: ${unbound.join(", ")}`,
        ...Object.fromEntries(extra.map(([name], i) => [name, extraResults[i] ?? false])),
      };
    };
    logger.info({ ops: ops.url, consumers: consumers.map((consumer) => consumer.durable) }, "worker started");

    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        logger.info({ graceMs }, "worker stopping");
        // Consumers first (they finish in-flight work and ack it), then the rest in reverse order of start.
        await stopConsumers();
        await unwind();
      })();
      return stopping;
    };

    if (options.handleSignals !== false) {
      const onSignal = (signal: NodeJS.Signals) => {
        logger.info({ signal }, "signal received");
        stop().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, "worker did not stop cleanly");
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
    }

    return { context, consumers, opsUrl: ops.url, stop };
  } catch (error) {
    logger.error({ err: error }, "worker refused to start");
    await unwind();
    throw error;
  }
}
