import type { AddressInfo } from "node:net";
import type { Tracer } from "@opentelemetry/api";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { topology as topologyFor, type ConsumerKey, type Topology } from "@callflow/contracts";
import { createDb, waitForDatabase, type Db } from "@callflow/db";
import {
  createLogger,
  createMetrics,
  reachableUrl,
  serveOps,
  startTelemetry,
  type CallflowMetrics,
  type Logger,
  type ReadinessChecks,
  type TelemetryOptions,
} from "@callflow/telemetry";
import { startConsumer, type ConsumerHandler, type EventKeyFor, type RunningConsumer } from "./consumer.ts";
import { createPostgresDeadLetterSink } from "./dead-letters/sink.ts";
import type { DeadLetterHook } from "./envelope.ts";
import { connectNats } from "./nats-connection.ts";
import { createOutboxRelay, type OutboxRelay } from "./outbox.ts";
import { createPublisher } from "./publisher.ts";
import { declareTopology, type ConsumerDeclaration, type TopologyOptions } from "./topology.ts";

/** A consumer as a service declares it: what it reads, how it handles it, and what giving up does. */
export interface ConsumerRegistration<C extends ConsumerKey = ConsumerKey> {
  declaration: ConsumerDeclaration & { key: C };
  handler: ConsumerHandler<C>;
  /** Declared beside the handler: what a message given up on does to its entity (invariant 4). */
  onDeadLetter?: DeadLetterHook<EventKeyFor<C>>;
  concurrency: number;
  /** Messages pulled ahead; default `concurrency`. Long jobs use 0: pull only for free slots. */
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

/** Where a service finds NATS and Postgres, and where it serves /metrics, /healthz and /readyz. */
export interface RuntimeConfig {
  databaseUrl: string;
  databasePoolSize: number;
  /** How long to wait at start for an unreachable Postgres; default 3 minutes (waitForDatabase). */
  databaseWaitMs?: number;
  natsUrl: string;
  /** Default `callflow`; tests pass their own. */
  namespace: string;
  logLevel: string;
  /** Port of /metrics, /healthz, /readyz; 0 picks a free one. */
  opsPort: number;
  opsHost?: string;
}

/** How a service's `start(config, options)` is called by its main.ts, the CLI and tests. */
export interface ServiceStartOptions {
  /** Exit on SIGTERM/SIGINT after stopping; main.ts yes, the CLI and tests no. */
  handleSignals?: boolean;
  /** Share one registry between the services of one process (the CLI). */
  metrics?: CallflowMetrics;
  /** A logger of the caller's (tests silence a service); default one named after the service. */
  logger?: Logger;
}

export interface RuntimeOptions extends ServiceStartOptions {
  service: string;
  config: RuntimeConfig;
  /**
   * The ops port is the public API's (ingest): until `run` hands it to the API, other paths answer 503
   * `starting` instead of a refused connection.
   */
  holdsApiPort?: boolean;
  telemetry?: Pick<TelemetryOptions, "spanProcessors" | "exporter">;
  topologyOptions?: Omit<TopologyOptions, "logger">;
  /** Start the outbox relay's sweeper in this process; default true (several processes may run it). */
  outboxSweeper?: boolean;
}

/** What a service's handlers are built from: the process's clients, created once. */
export interface RuntimeContext {
  readonly service: string;
  readonly topology: Topology;
  readonly db: Db;
  readonly nats: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly publisher: ReturnType<typeof createPublisher>;
  /** Publishes the outbox rows of `commitWithEvents` right after commit; its sweeper runs in this process. */
  readonly relay: OutboxRelay;
  readonly logger: Logger;
  readonly metrics: CallflowMetrics;
  readonly tracer: Tracer;
}

/** A public API that takes the ops port over once the service runs (ingest). */
export interface ApiServer {
  /** Listens on the port the runtime held. */
  listen(port: number): Promise<unknown>;
  /** Where it listens, once it does. */
  address(): AddressInfo;
  close(): Promise<unknown>;
}

export interface RunOptions {
  consumers: readonly AnyConsumerRegistration[];
  /** In-flight handlers get this long to finish at shutdown; default 25 s (Kubernetes waits 30 s). */
  graceMs?: number;
  /** Further named readiness checks; `true` when ready, `false` or a reason otherwise. */
  readiness?: Record<string, () => Promise<boolean | string>>;
  /** Takes the ops port over (ingest); it is closed first at stop, before the consumers. */
  api?: ApiServer;
}

/** What a service's `start` returns. */
export interface ServiceHandle {
  /** /metrics, /healthz, /readyz — the API's base URL where the API took the port over. */
  readonly url: string;
  readonly opsUrl: string;
  /** The process's clients (database, NATS, metrics), for the CLI and tests. */
  readonly context: RuntimeContext;
  readonly consumers: readonly RunningConsumer[];
  /** Stops the API, then the consumers (in-flight work finishes within the grace period), then the clients. */
  stop(): Promise<void>;
}

export interface Runtime extends RuntimeContext {
  /**
   * Opens a resource of the service's (object storage, a pool) while start-up says `phase`; it is
   * released at stop, before the clients it may use. If opening fails, the runtime stops and rethrows.
   */
  own<T>(phase: string, open: () => Promise<T>, release: (resource: T) => Promise<unknown>): Promise<T>;
  /** Runs `release` at stop, before whatever was opened earlier. */
  onStop(release: () => Promise<unknown>): void;
  /** Declares the topology (refusing drift), starts the consumers and becomes ready. */
  run(options: RunOptions): Promise<ServiceHandle>;
  /** What /readyz answers: what start-up waits for, or NATS, Postgres, the consumers and the service's own checks. */
  readiness(): Promise<ReadinessChecks>;
  stop(): Promise<void>;
}

const withTimeout = <T>(work: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

/** Longer than any consumer's grace period (25 s by default), so only a stuck step is passed over. */
const RELEASE_TIMEOUT_MS = 40_000;

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * What every service starts with, in order: telemetry, logger and metrics; the ops endpoints (alive at
 * once, ready only when the consumers are bound); one NATS connection; Postgres with the migration
 * check (waiting for it while unreachable, refusing drift); the publisher and one outbox relay.
 * The service then opens its own resources, builds its handlers and calls `run`.
 */
export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { service, config } = options;
  const telemetry = startTelemetry({ serviceName: service, ...options.telemetry });
  const logger = options.logger ?? createLogger({ service, level: config.logLevel });
  const metrics = options.metrics ?? createMetrics({ service });
  const topology = topologyFor(config.namespace);

  // Unwound in reverse: what a service opened last goes first, the clients it used after it.
  const releases: (() => Promise<unknown>)[] = [() => telemetry.shutdown()];
  // Each step is bounded (invariant 7): a client stuck on a connection that died mid-query (a pool
  // waiting for it to come back) must not keep the process from stopping; it is logged and passed over.
  const unwind = async () => {
    for (const release of releases.splice(0).reverse()) {
      await withTimeout(release(), RELEASE_TIMEOUT_MS, "a release step at stop").catch((error: unknown) => logger.warn({ err: error }, "release at stop failed"));
    }
  };

  // The ops server comes first: /healthz answers while NATS and Postgres are awaited, and /readyz
  // says what start-up is waiting for until the consumers are bound.
  let phase = "connecting to NATS";
  let checks: (() => Promise<ReadinessChecks>) | undefined;
  let stopping: Promise<void> | undefined;
  const readiness = async (): Promise<ReadinessChecks> => (stopping ? { service: "stopping" } : checks ? checks() : { startup: phase });

  const stop = (): Promise<void> => (stopping ??= unwind());
  try {
    const ops = await serveOps({ port: config.opsPort, ...(config.opsHost ? { host: config.opsHost } : {}), registry: metrics.registry, readiness, holdsApiPort: options.holdsApiPort ?? false });
    let opsOpen = true;
    const closeOps = async () => {
      if (opsOpen) await ops.close();
      opsOpen = false;
    };
    releases.push(closeOps);
    const { nats, connected } = await connectNats(config.natsUrl, service, logger);
    releases.push(() => nats.drain().catch(() => nats.close()));
    const db = createDb(config.databaseUrl, { poolSize: config.databasePoolSize });
    releases.push(() => db.$disconnect());

    phase = "waiting for Postgres";
    await waitForDatabase(db, { databaseUrl: config.databaseUrl, limitMs: config.databaseWaitMs, logger });
    const js = jetstream(nats);
    const jsm = await jetstreamManager(nats);
    const publisher = createPublisher({ js, tracer: telemetry.tracer });
    const relay = createOutboxRelay({ db, publisher, logger, metrics });
    const context: RuntimeContext = { service, topology, db, nats, js, jsm, publisher, relay, logger, metrics, tracer: telemetry.tracer };

    const own = async <T>(ownPhase: string, open: () => Promise<T>, release: (resource: T) => Promise<unknown>): Promise<T> => {
      phase = ownPhase;
      try {
        const resource = await open();
        releases.push(() => release(resource));
        return resource;
      } catch (error) {
        logger.error({ err: error }, `${service} refused to start`);
        await stop();
        throw error;
      }
    };

    const run = async (runOptions: RunOptions): Promise<ServiceHandle> => {
      const graceMs = runOptions.graceMs ?? 25_000;
      const consumers: RunningConsumer[] = [];
      let url = ops.url;
      try {
        phase = "declaring streams and consumers";
        const declared = await declareTopology(jsm, topology, runOptions.consumers.map((registration) => registration.declaration), { ...options.topologyOptions, logger });
        logger.info({ ...declared, namespace: topology.namespace }, "topology checked");

        if (options.outboxSweeper !== false) {
          relay.start();
          releases.push(() => relay.stop());
        }
        // The consume loop counts dead letters itself, so the sink is given no metrics.
        const sink = createPostgresDeadLetterSink({ db, topology, relay, logger });
        releases.push(() => Promise.all(consumers.map((consumer) => consumer.stop(graceMs))));
        for (const registration of runOptions.consumers) {
          consumers.push(
            await startConsumer({
              ...registration.declaration,
              nats,
              topology,
              handler: registration.handler as ConsumerHandler,
              ...(registration.onDeadLetter ? { onDeadLetter: registration.onDeadLetter as DeadLetterHook } : {}),
              concurrency: registration.concurrency,
              ...(registration.prefetch === undefined ? {} : { prefetch: registration.prefetch }),
              ...(registration.handlerTimeoutMs === undefined ? {} : { handlerTimeoutMs: registration.handlerTimeoutMs }),
              deadLetters: sink,
              logger,
              metrics,
              tracer: telemetry.tracer,
              ...(options.topologyOptions ? { topologyOptions: options.topologyOptions } : {}),
            }),
          );
        }

        // Ready when `run` returns, as far as NATS lets it be soon: the consumers' first pull
        // subscriptions are open (readiness keeps reporting one that is not, after this bounded wait).
        await withTimeout(Promise.all(consumers.map((consumer) => consumer.bound)), 10_000, "the consumers' first subscriptions").catch((error: unknown) =>
          logger.warn({ err: error }, "consumers not bound yet; /readyz says so until they are"),
        );
        const { api } = runOptions;
        if (api) {
          // The API takes the port over; it is stopped first, so no request is accepted that could not finish.
          const port = ops.port;
          await closeOps();
          releases.push(() => api.close());
          await api.listen(port);
          url = reachableUrl(api.address());
        }

        const extra = Object.entries(runOptions.readiness ?? {});
        checks = async (): Promise<ReadinessChecks> => {
          const [postgres, ...extraResults] = await Promise.all([
            withTimeout(db.$queryRaw`SELECT 1`, 1_500, "postgres").then(() => true as const, reasonOf),
            ...extra.map(([, check]) => check().catch(reasonOf)),
          ]);
          const unbound = consumers.filter((consumer) => !consumer.stats.bound).map((consumer) => consumer.durable);
          return {
            nats: connected() || "disconnected",
            postgres: postgres ?? "no answer",
            consumers: unbound.length === 0 || `not bound: ${unbound.join(", ")}`,
            ...Object.fromEntries(extra.map(([name], i) => [name, extraResults[i] ?? false])),
          };
        };
        logger.info({ url, consumers: consumers.map((consumer) => consumer.durable) }, `${service} started`);
      } catch (error) {
        logger.error({ err: error }, `${service} refused to start`);
        await stop();
        throw error;
      }

      if (options.handleSignals) {
        const onSignal = (signal: NodeJS.Signals) => {
          logger.info({ signal, graceMs }, "signal received; stopping");
          stop().then(
            () => process.exit(0),
            (error: unknown) => {
              logger.error({ err: error }, `${service} did not stop cleanly`);
              process.exit(1);
            },
          );
        };
        process.once("SIGTERM", onSignal);
        process.once("SIGINT", onSignal);
      }
      return { url, opsUrl: url, context, consumers, stop };
    };

    return { ...context, own, onStop: (release) => void releases.push(release), run, readiness, stop };
  } catch (error) {
    logger.error({ err: error }, `${service} refused to start`);
    await stop();
    throw error;
  }
}
