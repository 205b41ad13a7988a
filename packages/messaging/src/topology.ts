import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { millis, nanos } from "@nats-io/nats-core";
import type { ConsumerKey, StreamKey, Topology } from "@callflow/contracts";
import type { Logger } from "@callflow/telemetry";

/**
 * Streams and durable consumers are declared in code (docs/design.md invariant 9). At start a service
 * creates what is missing, updates what JetStream can change safely, and refuses to start on drift
 * that needs an operator's decision.
 */

export interface ConsumerDeclaration {
  key: ConsumerKey;
  /** How long a delivery may go without ack or `working()` before JetStream redelivers it. */
  ackWaitMs: number;
  /** Deliveries before a message is given up on (and dead-lettered). */
  maxDeliver: number;
  /**
   * Redelivery delays after ack timeouts. JetStream then uses `backoffMs[0]` as ack_wait, so it
   * must equal `ackWaitMs`; fewer entries than `maxDeliver` (nats-server refuses otherwise).
   */
  backoffMs?: number[];
  /** Unacknowledged messages the server allows across all processes; server default 1000. */
  maxAckPending?: number;
}

export interface TopologyOptions {
  /** Stream replicas; 3 in a production JetStream cluster. Compared only when given. */
  replicas?: number;
  /** Default 7 days: long enough to replay, short enough that JetStream stays a transport. */
  maxAgeMs?: number;
  /** `Nats-Msg-Id` deduplication window; default 2 minutes. */
  duplicateWindowMs?: number;
  logger?: Logger;
}

export interface Drift {
  field: string;
  expected: unknown;
  actual: unknown;
}

/** The server holds a configuration this code cannot adopt by itself. */
export class TopologyDriftError extends Error {
  override readonly name = "TopologyDriftError";
  constructor(readonly kind: "stream" | "consumer", readonly subject: string, readonly drifts: Drift[], hint: string) {
    const details = drifts
      .map((d) => `${d.field} is ${JSON.stringify(d.actual)} on the server but this code declares ${JSON.stringify(d.expected)}`)
      .join("; ");
    super(`${kind} ${subject} has drifted: ${details}. ${hint}`);
  }
}

export interface DeclaredTopology {
  streamsCreated: string[];
  streamsUpdated: string[];
  consumersCreated: string[];
  /** Durable → fields changed in place (ack_wait, backoff, max_ack_pending). */
  consumersUpdated: Record<string, string[]>;
}

const DAY_MS = 24 * 60 * 60 * 1_000;
const DEFAULT_MAX_AGE_MS = 7 * DAY_MS;
const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1_000;
const STREAM_KEYS: readonly StreamKey[] = ["calls", "dials", "deadLetters"];

const isApiError = (error: unknown, code: number): boolean => error instanceof JetStreamApiError && error.code === code;

const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  const wanted = new Set(b);
  return a.length === wanted.size && a.every((value) => wanted.has(value));
};

/** Backoff and durations travel as nanoseconds; drift messages speak milliseconds. */
const msList = (values: readonly number[] | undefined): number[] => (values ?? []).map((ns) => millis(ns));

export const validateDeclaration = (declaration: ConsumerDeclaration): void => {
  const { key, ackWaitMs, maxDeliver, backoffMs, maxAckPending } = declaration;
  const problems: string[] = [];
  if (!Number.isInteger(ackWaitMs) || ackWaitMs < 1_000) problems.push(`ackWaitMs must be an integer >= 1000, got ${ackWaitMs}`);
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1) problems.push(`maxDeliver must be an integer >= 1, got ${maxDeliver}`);
  if (backoffMs) {
    if (backoffMs.length === 0 || backoffMs.length >= maxDeliver) problems.push(`backoffMs needs fewer entries than maxDeliver (${maxDeliver}), got ${backoffMs.length}`);
    if (backoffMs[0] !== undefined && backoffMs[0] !== ackWaitMs) {
      problems.push(`backoffMs[0] (${backoffMs[0]}) must equal ackWaitMs (${ackWaitMs}): JetStream uses it as ack_wait`);
    }
  }
  if (maxAckPending !== undefined && (!Number.isInteger(maxAckPending) || maxAckPending < 1)) problems.push(`maxAckPending must be a positive integer, got ${maxAckPending}`);
  if (problems.length) throw new Error(`consumer declaration ${key} is invalid: ${problems.join("; ")}`);
};

const streamConfigs = (t: Topology, options: TopologyOptions): Partial<StreamConfig>[] => {
  const common = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(options.maxAgeMs ?? DEFAULT_MAX_AGE_MS),
    duplicate_window: nanos(options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    ...(options.replicas === undefined ? {} : { num_replicas: options.replicas }),
  };
  return STREAM_KEYS.map((key) => ({ ...common, name: t.stream(key), subjects: [t.streamSubjects(key)] }));
};

const consumerConfig = (t: Topology, declaration: ConsumerDeclaration): Partial<ConsumerConfig> & { durable_name: string } => {
  const { durable, filterSubject } = t.consumer(declaration.key);
  return {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: filterSubject,
    ack_wait: nanos(declaration.ackWaitMs),
    max_deliver: declaration.maxDeliver,
    ...(declaration.backoffMs ? { backoff: declaration.backoffMs.map((ms) => nanos(ms)) } : {}),
    ...(declaration.maxAckPending === undefined ? {} : { max_ack_pending: declaration.maxAckPending }),
  };
};

/**
 * nats-server removes an account's `streams` directory with its last stream; a stream created at that
 * moment fails with "error creating store for stream" (the server logs "could not create storage
 * directory"). Seen when test namespaces come and go in parallel; nats-server has had several such
 * create/delete races. The next create makes the directory again, so trying again settles it.
 */
const STORAGE_DIRECTORY_RACE = /error creating store for stream|could not create storage directory/i;
async function addStream(jsm: JetStreamManager, wanted: Partial<StreamConfig> & { name: string }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await jsm.streams.add(wanted);
      return;
    } catch (error) {
      if (attempt >= 3 || !(error instanceof JetStreamApiError) || !STORAGE_DIRECTORY_RACE.test(error.message)) throw error;
    }
  }
}

async function declareStream(jsm: JetStreamManager, wanted: Partial<StreamConfig> & { name: string }, result: DeclaredTopology, logger?: Logger): Promise<void> {
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(wanted.name);
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    try {
      await addStream(jsm, wanted);
      result.streamsCreated.push(wanted.name);
      logger?.info({ stream: wanted.name, subjects: wanted.subjects }, "stream created");
      return;
    } catch (addError) {
      // Another process created it first; compare what it created like any existing stream.
      info = await jsm.streams.info(wanted.name).catch(() => {
        throw addError;
      });
    }
  }

  const actual = info.config;
  const refusals: Drift[] = [];
  if (!sameSet(actual.subjects ?? [], wanted.subjects ?? [])) refusals.push({ field: "subjects", expected: wanted.subjects, actual: actual.subjects });
  if (actual.retention !== wanted.retention) refusals.push({ field: "retention", expected: wanted.retention, actual: actual.retention });
  if (actual.storage !== wanted.storage) refusals.push({ field: "storage", expected: wanted.storage, actual: actual.storage });
  if (refusals.length) {
    throw new TopologyDriftError(
      "stream",
      wanted.name,
      refusals,
      "Changing a stream's subjects, retention or storage moves or strands messages: migrate it deliberately, then start again.",
    );
  }

  const updates: Partial<StreamConfig> = {};
  if (actual.max_age !== wanted.max_age) updates.max_age = wanted.max_age;
  if (actual.duplicate_window !== wanted.duplicate_window) updates.duplicate_window = wanted.duplicate_window;
  if (wanted.num_replicas !== undefined && actual.num_replicas !== wanted.num_replicas) updates.num_replicas = wanted.num_replicas;
  if (Object.keys(updates).length) {
    await jsm.streams.update(wanted.name, updates);
    result.streamsUpdated.push(wanted.name);
    logger?.info({ stream: wanted.name, fields: Object.keys(updates) }, "stream configuration updated in place");
  }
}

/** What differs, split into what JetStream can change in place and what needs an operator. */
const compareConsumer = (actual: ConsumerConfig, wanted: ReturnType<typeof consumerConfig>) => {
  const refusals: Drift[] = [];
  const updates: Partial<ConsumerConfig> = {};
  if (actual.ack_policy !== wanted.ack_policy) refusals.push({ field: "ack_policy", expected: wanted.ack_policy, actual: actual.ack_policy });
  if (actual.deliver_subject) refusals.push({ field: "deliver_subject (push consumer)", expected: null, actual: actual.deliver_subject });
  if ((actual.filter_subject ?? "") !== wanted.filter_subject) {
    refusals.push({ field: "filter_subject", expected: wanted.filter_subject, actual: actual.filter_subject ?? "" });
  }
  // Changing max_deliver under in-flight messages changes which of them get dead-lettered.
  if (actual.max_deliver !== wanted.max_deliver) refusals.push({ field: "max_deliver", expected: wanted.max_deliver, actual: actual.max_deliver });

  const changed: string[] = [];
  if (actual.ack_wait !== wanted.ack_wait) {
    updates.ack_wait = wanted.ack_wait;
    changed.push(`ack_wait ${millis(actual.ack_wait ?? 0)}ms → ${millis(wanted.ack_wait ?? 0)}ms`);
  }
  const actualBackoff = msList(actual.backoff);
  const wantedBackoff = msList(wanted.backoff);
  if (JSON.stringify(actualBackoff) !== JSON.stringify(wantedBackoff)) {
    updates.backoff = wanted.backoff ?? [];
    changed.push(`backoff [${actualBackoff.join(", ")}]ms → [${wantedBackoff.join(", ")}]ms`);
  }
  if (wanted.max_ack_pending !== undefined && actual.max_ack_pending !== wanted.max_ack_pending) {
    updates.max_ack_pending = wanted.max_ack_pending;
    changed.push(`max_ack_pending ${actual.max_ack_pending} → ${wanted.max_ack_pending}`);
  }
  return { refusals, updates, changed };
};

const consumerDriftHint =
  "A different max_deliver or filter changes which in-flight messages are dead-lettered or delivered at all: " +
  "drain the consumer and delete it (it is recreated at start), or change the declaration back.";

async function declareConsumer(jsm: JetStreamManager, t: Topology, declaration: ConsumerDeclaration, result: DeclaredTopology, logger?: Logger): Promise<ConsumerInfo> {
  validateDeclaration(declaration);
  const { stream } = t.consumer(declaration.key);
  const wanted = consumerConfig(t, declaration);
  const subject = `${stream}/${wanted.durable_name}`;

  let info: ConsumerInfo;
  let created = false;
  try {
    info = await jsm.consumers.info(stream, wanted.durable_name);
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    // nats-server 2.9 treats a create of an existing durable as an update of any field, even
    // max_deliver: only a consumer that was missing is created, and what results is checked below.
    info = await jsm.consumers.add(stream, wanted);
    created = true;
  }

  const { refusals, updates, changed } = compareConsumer(info.config, wanted);
  if (refusals.length) throw new TopologyDriftError("consumer", subject, refusals, consumerDriftHint);
  if (created) {
    result.consumersCreated.push(wanted.durable_name);
    logger?.info({ stream, consumer: wanted.durable_name, filter: wanted.filter_subject }, "consumer created");
  }
  if (changed.length) {
    // ack_wait and backoff only change when a delivery is next timed; nothing in flight is lost.
    info = await jsm.consumers.update(stream, wanted.durable_name, updates);
    result.consumersUpdated[wanted.durable_name] = changed;
    logger?.info({ stream, consumer: wanted.durable_name, changed }, "consumer configuration updated in place");
  }
  return info;
}

/**
 * Creates the namespace's streams (calls, dials, dead letters) and the given durable
 * pull consumers, or checks them against this code. Safe to run from several processes at once.
 */
export async function declareTopology(
  jsm: JetStreamManager,
  t: Topology,
  consumers: readonly ConsumerDeclaration[],
  options: TopologyOptions = {},
): Promise<DeclaredTopology> {
  const result: DeclaredTopology = { streamsCreated: [], streamsUpdated: [], consumersCreated: [], consumersUpdated: {} };
  for (const config of streamConfigs(t, options)) {
    await declareStream(jsm, config as Partial<StreamConfig> & { name: string }, result, options.logger);
  }
  for (const declaration of consumers) await declareConsumer(jsm, t, declaration, result, options.logger);
  return result;
}
