import { events, type EventKey, type StreamKey } from "./events.ts";

/** Stream names below the namespace. */
export const streams = {
  calls: { name: "CALLS", subjects: "calls.>" },
  dials: { name: "DIALS", subjects: "dials.>" },
  deadLetters: { name: "DEADLETTERS", subjects: "deadletters.>" },
} as const satisfies Record<StreamKey, { name: string; subjects: string }>;

/** Durable consumers: one per reading service role, each with one filter (nats-server 2.9). */
export const consumers = {
  transcription: { stream: "calls", filter: "calls.transcribe.>" },
  aggregator: { stream: "calls", filter: "calls.ledger.>" },
  merge: { stream: "calls", filter: "calls.transcribed" },
  // Merge's inputs downloaded and probed as each chunk arrives (services/merge/src/recordings/prefetched-inputs.ts).
  mergePrefetch: { stream: "calls", filter: "calls.transcribe.chunk_ready" },
  summary: { stream: "calls", filter: "calls.transcribed" },
  completion: { stream: "calls", filter: "calls.finish.>" },
  notifier: { stream: "calls", filter: "calls.notify.>" },
  callbacks: { stream: "calls", filter: "calls.callback.>" },
  // Only requests: status callbacks (dials.status_changed) are the dial-status consumer's to apply.
  dialer: { stream: "dials", filter: "dials.requested" },
  // The dialer's forward-only status transitions (services/outbound-dialer/src/status), apart from placing.
  dialStatus: { stream: "dials", filter: "dials.status_changed" },
  // A placed call's recording into the pipeline (services/ingest, where audio enters).
  recordingFetch: { stream: "dials", filter: "dials.recording.fetch" },
  // Completed calls into leads (services/summary, which owns the fields a lead is read from).
  leads: { stream: "calls", filter: "calls.lead.>" },
} as const satisfies Record<string, { stream: StreamKey; filter: string }>;

export type ConsumerKey = keyof typeof consumers;

export const DEFAULT_NAMESPACE = "callflow";

const NAMESPACE_PATTERN = /^[a-z][a-z0-9_]{0,30}$/;

/**
 * Concrete names for one namespace. Production uses `callflow`; each test gets its own so parallel
 * test files never see each other's messages.
 */
export interface Topology {
  readonly namespace: string;
  stream(key: StreamKey): string;
  streamSubjects(key: StreamKey): string;
  subject(event: EventKey): string;
  consumer(key: ConsumerKey): { stream: string; durable: string; filterSubject: string };
  /** The event whose subject this is, or undefined for a subject outside the contract. */
  eventForSubject(subject: string): EventKey | undefined;
}

export function topology(namespace: string = DEFAULT_NAMESPACE): Topology {
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw new Error(`namespace must match ${NAMESPACE_PATTERN}: "${namespace}"`);
  }
  const prefix = namespace.toUpperCase();
  const streamName = (key: StreamKey) => `${prefix}_${streams[key].name}`;
  const bySubject = new Map<string, EventKey>(
    (Object.keys(events) as EventKey[]).map((key) => [`${namespace}.${events[key].subject}`, key]),
  );
  return {
    namespace,
    stream: streamName,
    streamSubjects: (key) => `${namespace}.${streams[key].subjects}`,
    subject: (event) => `${namespace}.${events[event].subject}`,
    consumer: (key) => ({
      stream: streamName(consumers[key].stream),
      durable: `${namespace}_${key}`,
      filterSubject: `${namespace}.${consumers[key].filter}`,
    }),
    eventForSubject: (subject) => bySubject.get(subject),
  };
}
