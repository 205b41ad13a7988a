import type { Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { commitWithEvents, type Emit, type OutboxRelay, type TransactionClient } from "@callflow/messaging";

export type { Emit, TransactionClient };

/**
 * One Postgres transaction whose emitted events are outbox rows committed with it (invariant 1).
 * The relay publishes them right after commit; with NATS down its sweeper does it later.
 */
export type Commit = <T>(work: (tx: TransactionClient, emit: Emit) => Promise<T>) => Promise<T>;

export const outboxCommit =
  (db: Db, topology: Topology, relay: Pick<OutboxRelay, "publishNow"> | undefined): Commit =>
  (work) =>
    commitWithEvents(db, topology, work, relay);
