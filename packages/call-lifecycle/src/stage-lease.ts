import type { Clock, Delivery } from "@callflow/messaging";

/**
 * A worker's lease on a unit of work in progress: a stage run, a chunk (docs/design.md invariant 2).
 * The row carries the owner (`attempt`) and the deadline (`heartbeat_at`); a claim is a
 * compare-and-set that takes a queued row, or a running one whose heartbeat went stale, as the next
 * attempt. Every later write is conditional on (running, that attempt), so a worker whose lease was
 * taken over changes nothing.
 */

/** When a claim is made, and the heartbeat older than which a running row has lost its worker. */
export interface ClaimWindow {
  now: Date;
  staleBefore: Date;
}

/** Why a lease was handed back, kept on its row for whoever looks next (invariant 4). */
export interface LeaseError {
  code: string;
  message: string;
}

/** The rows a lease lives on: `stage_runs` (merge, summary) or `chunks` (transcription). */
export interface LeaseStore<Key> {
  /** queued, or running with a heartbeat older than `window.staleBefore`, becomes running as the next attempt: that attempt, or null. */
  claim(key: Key, window: ClaimWindow): Promise<number | null>;
  /** Refreshes the heartbeat; false once the row is no longer this attempt's. */
  heartbeat(key: Key, attempt: number, now: Date): Promise<boolean>;
  /** running → queued with the error, owned by nobody, so the next delivery claims it at once. */
  release(key: Key, attempt: number, error: LeaseError): Promise<void>;
}

/** A claimed attempt: what the worker holds until it settles the row or hands it back. */
export interface StageLease {
  readonly attempt: number;
  heartbeat(now: Date): Promise<boolean>;
  release(error: LeaseError): Promise<void>;
}

export const claimWindow = (clock: Clock, staleAfterMs: number): ClaimWindow => {
  const now = clock.now();
  return { now, staleBefore: new Date(now.getTime() - staleAfterMs) };
};

/**
 * How long a running row's heartbeat keeps it its worker's: 0 once it is stale (or was never beaten),
 * when a claim may take the row over.
 */
export const leaseRemainingMs = (heartbeatAt: Date | null, window: ClaimWindow): number =>
  heartbeatAt === null ? 0 : Math.max(0, heartbeatAt.getTime() - window.staleBefore.getTime());

export async function claimLease<Key>(store: LeaseStore<Key>, key: Key, window: ClaimWindow): Promise<StageLease | null> {
  const attempt = await store.claim(key, window);
  if (attempt === null) return null;
  return {
    attempt,
    heartbeat: (now) => store.heartbeat(key, attempt, now),
    release: (error) => store.release(key, attempt, error),
  };
}

export interface KeptAlive {
  /** Aborts when the delivery's signal does (shutdown, handler timeout) or when the lease is lost. */
  readonly signal: AbortSignal;
  /** A heartbeat found the row no longer this attempt's: another worker took it over. */
  readonly lost: boolean;
  /** No heartbeat after this, and none still in flight changes anything. */
  stop(): void;
}

export interface KeepAliveOptions {
  delivery: Pick<Delivery, "working" | "signal">;
  everyMs: number;
  clock: Clock;
  /** The work the lease is on, for the abort reason: "merge", "summary", "chunk <id>". */
  what: string;
  /** A heartbeat that failed (Postgres unreachable) is tried again at the next tick. */
  onHeartbeatFailed?: (error: unknown) => void;
  onLost?: () => void;
}

/**
 * While a worker holds a lease: every `everyMs`, extends the message's ack deadline and refreshes
 * the row's heartbeat. The signal aborts as soon as a heartbeat finds the row taken over, so the
 * work stops (and stops paying a provider) instead of producing a result nobody will store.
 */
export function keepLeaseAlive(lease: Pick<StageLease, "attempt" | "heartbeat">, options: KeepAliveOptions): KeptAlive {
  const lost = new AbortController();
  let stopped = false;
  const beat = () => {
    options.delivery.working();
    lease.heartbeat(options.clock.now()).then(
      (ours) => {
        if (ours || stopped || lost.signal.aborted) return;
        lost.abort(new Error(`${options.what} attempt ${lease.attempt} was taken over by another worker`));
        options.onLost?.();
      },
      (error: unknown) => {
        if (!stopped) options.onHeartbeatFailed?.(error);
      },
    );
  };
  const timer = setInterval(beat, options.everyMs);
  return {
    signal: AbortSignal.any([options.delivery.signal, lost.signal]),
    get lost() {
      return lost.signal.aborted;
    },
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
