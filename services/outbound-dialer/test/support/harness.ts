import type { Topology } from "@callflow/contracts";
import type { Db, DialPriority } from "@callflow/db";
import { commitWithEvents, type Clock, type OutboxRelay } from "@callflow/messaging";
import { twilioEnvFor, type TwilioServer } from "@callflow/telephony";
import { EMBEDDED_S3_CREDENTIALS } from "@callflow/storage";
import { testInfraUrls, type TestBucket, type TestDatabase, type TestNamespace } from "@callflow/testkit";

/** The dialer's environment against this test's database, namespace, bucket (placed calls' recordings) and local Twilio server. */
export const dialerEnv = (
  database: TestDatabase,
  messaging: TestNamespace,
  storage: Pick<TestBucket, "endpoint" | "bucket">,
  twilio: Pick<TwilioServer, "accountSid" | "authToken" | "baseUrl">,
  overrides: Record<string, string> = {},
): Record<string, string> => ({
  CALLFLOW_DATABASE_URL: database.url,
  CALLFLOW_NATS_URL: testInfraUrls().nats,
  CALLFLOW_NAMESPACE: messaging.namespace,
  CALLFLOW_LOG_LEVEL: "warn",
  CALLFLOW_DIALER_OPS_PORT: "0",
  CALLFLOW_DIALER_IDLE_POLL_MS: "100",
  CALLFLOW_S3_ENDPOINT: storage.endpoint,
  CALLFLOW_S3_BUCKET: storage.bucket,
  CALLFLOW_S3_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
  CALLFLOW_S3_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
  ...twilioEnvFor(twilio),
  // Nobody listens there: the callbacks are the dial-status consumer's business, not these tests'.
  CALLFLOW_DIALER_CALLBACK_BASE_URL: "http://127.0.0.1:9",
  ...overrides,
});

/** A tenant whose call window is the whole day unless given one. */
export const seedTenant = (db: Db, window: { start: number; end: number } = { start: 0, end: 1440 }) =>
  db.tenant.create({ data: { name: "dialer test", callWindowStartMinute: window.start, callWindowEndMinute: window.end } });

export interface DialSeed {
  toNumber: string;
  priority?: DialPriority;
  calleeTimezone?: string;
  nextAttemptAt?: Date;
  /** Attempts a busy or unanswered dial gets; default the column's, 1. */
  maxAttempts?: number;
}

/** Dials as the API writes them: the row, its `queued` timeline row and dialRequested, in one transaction. */
export async function requestDials(db: Db, topology: Topology, relay: Pick<OutboxRelay, "publishNow"> | undefined, tenantId: string, seeds: DialSeed[], clock?: Clock): Promise<string[]> {
  return commitWithEvents(db, topology, async (tx, emit) => {
    const ids: string[] = [];
    for (const seed of seeds) {
      const dial = await tx.dial.create({
        data: {
          tenantId,
          toNumber: seed.toNumber,
          priority: seed.priority ?? "normal",
          dedupKey: seed.toNumber,
          calleeTimezone: seed.calleeTimezone ?? null,
          ...(seed.maxAttempts === undefined ? {} : { maxAttempts: seed.maxAttempts }),
          nextAttemptAt: seed.nextAttemptAt ?? clock?.now() ?? new Date(),
        },
        select: { id: true },
      });
      // Stamped by the dialer's clock, as the rows the dialer writes after it are: Postgres's own clock may differ by a few ms.
      await tx.dialEvent.create({ data: { dialId: dial.id, status: "queued", attempt: 0, at: clock?.now() ?? new Date() } });
      await emit("dialRequested", { tenantId, dialId: dial.id, attempt: 0 });
      ids.push(dial.id);
    }
    return ids;
  }, relay, { timeoutMs: 30_000 });
}

/** A clock that runs with real time from a chosen instant: pacing still refills, windows open on cue. */
export const clockStartingAt = (start: Date): Clock => {
  const offset = start.getTime() - Date.now();
  return { now: () => new Date(Date.now() + offset) };
};

/** Numbers the local carrier answers as an ordinary call (its table keys on the last four digits, 0001–0009). */
export const ordinaryNumber = (i: number) => `+1415555${String(1000 + i).padStart(4, "0")}`;
