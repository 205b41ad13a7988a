import type { Db } from "./client.ts";
import { assertMigrated } from "./migrations.ts";
import { isDatabaseUnreachable } from "./unreachable.ts";

/** How long a starting service waits for an unreachable Postgres (`CALLFLOW_DATABASE_WAIT_MS`). */
export const DEFAULT_DATABASE_WAIT_MS = 180_000;

/** Postgres stayed unreachable for the whole wait; the service gives up starting. */
export class DatabaseUnreachableError extends Error {
  override readonly name = "DatabaseUnreachableError";
  constructor(readonly host: string, readonly limitMs: number, readonly attempts: number, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message.trim().split("\n").at(-1) : String(options.cause);
    super(
      `Postgres at ${host} was not reachable within ${limitMs} ms (${attempts} attempts; CALLFLOW_DATABASE_WAIT_MS); last error: ${reason}`,
      options,
    );
  }
}

export interface DatabaseWaitAttempt {
  attempt: number;
  /** How long until the next try; it is never later than the limit. */
  nextDelayMs: number;
  elapsedMs: number;
  host: string;
  error: unknown;
}

export interface WaitForDatabaseOptions {
  /** The URL the client was built from; only its host and port are ever shown. */
  databaseUrl: string;
  /** Default DEFAULT_DATABASE_WAIT_MS. */
  limitMs?: number | undefined;
  logger?: { warn(details: Record<string, unknown>, message: string): void };
  onAttempt?: (attempt: DatabaseWaitAttempt) => void;
  /** First delay (default 250 ms), doubled each try up to maxDelayMs (default 10 s), with jitter. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
}

/** host:port of a Postgres URL, without credentials or database. */
export const databaseHost = (databaseUrl: string): string => {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname || "localhost"}:${url.port || "5432"}`;
  } catch {
    return "an unparsable CALLFLOW_DATABASE_URL";
  }
};

/**
 * The start-up check every service makes: the database answers and is at this code's migration
 * level. While it cannot be reached (a Postgres restart, a pod not yet scheduled) it is tried again
 * with exponential backoff up to `limitMs`; a database that answers but has drifted refuses at once.
 */
export async function waitForDatabase(db: Db, options: WaitForDatabaseOptions): Promise<void> {
  const limitMs = options.limitMs ?? DEFAULT_DATABASE_WAIT_MS;
  const initialDelayMs = options.initialDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const random = options.random ?? Math.random;
  const host = databaseHost(options.databaseUrl);
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await assertMigrated(db);
      return;
    } catch (error) {
      if (!isDatabaseUnreachable(error)) throw error;
      const elapsedMs = Date.now() - started;
      const remainingMs = limitMs - elapsedMs;
      if (remainingMs <= 0) throw new DatabaseUnreachableError(host, limitMs, attempt, { cause: error });
      // Jitter over the upper half of the delay keeps replicas restarted together from retrying in step.
      const backoff = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
      const nextDelayMs = Math.max(1, Math.min(remainingMs, Math.round(backoff / 2 + (random() * backoff) / 2)));
      const report: DatabaseWaitAttempt = { attempt, nextDelayMs, elapsedMs, host, error };
      options.logger?.warn(
        { attempt, nextDelayMs, elapsedMs, limitMs, host, reason: error instanceof Error ? error.message.trim().split("\n").at(-1) : String(error) },
        "Postgres not reachable yet; waiting",
      );
      options.onAttempt?.(report);
      await new Promise((resolve) => setTimeout(resolve, nextDelayMs));
    }
  }
}
