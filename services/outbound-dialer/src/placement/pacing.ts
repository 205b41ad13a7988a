import type { Clock, TransactionClient } from "@callflow/messaging";

/**
 * Pacing in Postgres, so every replica draws on one budget per provider account: a token bucket
 * (`dial_rate_buckets`) refilled at `callsPerSecond`, holding at most `BURST` tokens. One token is one
 * placement. With room for one token more than the one being taken, a claim that comes a little late
 * (a lane waking, a transaction waiting its turn) does not lose its share of the rate: over a backlog the
 * achieved rate is the limit, and any one-second window holds at most the limit plus one, however many
 * replicas run. (A bucket of one token lost each claim's lateness: 86% of the limit at 20/s.)
 *
 * Taken inside the claim's transaction, with the account's row locked first: the refill and the take
 * are atomic, a claim that rolls back returns its token, and the time is read only once the lock is
 * held, so the claims of every replica are stamped in the order they took their tokens. Time is the
 * caller's clock, never the database's, so tests move it; a clock behind the last refresh refills nothing.
 */
const BURST = 2;

export async function takePacingToken(tx: TransactionClient, account: string, clock: Clock, callsPerSecond: number): Promise<{ taken: true; at: Date } | { taken: false; waitMs: number }> {
  await tx.$executeRaw`INSERT INTO dial_rate_buckets (account, tokens, refreshed_at) VALUES (${account}, ${BURST}, ${clock.now()}) ON CONFLICT (account) DO NOTHING`;
  await tx.$queryRaw`SELECT 1 FROM dial_rate_buckets WHERE account = ${account} FOR UPDATE`;
  const now = clock.now();
  const taken = await tx.$queryRaw<{ tokens: number }[]>`
    UPDATE dial_rate_buckets
       SET tokens = LEAST(${BURST}::float8, tokens + GREATEST(0, EXTRACT(EPOCH FROM (${now}::timestamptz - refreshed_at))) * ${callsPerSecond}::float8) - 1,
           refreshed_at = GREATEST(refreshed_at, ${now}::timestamptz)
     WHERE account = ${account}
       AND LEAST(${BURST}::float8, tokens + GREATEST(0, EXTRACT(EPOCH FROM (${now}::timestamptz - refreshed_at))) * ${callsPerSecond}::float8) >= 1
    RETURNING tokens`;
  if (taken.length === 1) return { taken: true, at: now };
  const [bucket] = await tx.$queryRaw<{ tokens: number }[]>`
    SELECT LEAST(${BURST}::float8, tokens + GREATEST(0, EXTRACT(EPOCH FROM (${now}::timestamptz - refreshed_at))) * ${callsPerSecond}::float8)::float8 AS tokens
      FROM dial_rate_buckets WHERE account = ${account}`;
  const missing = 1 - Number(bucket?.tokens ?? 0);
  return { taken: false, waitMs: Math.max(1, Math.ceil((missing / callsPerSecond) * 1000)) };
}

/** Gives back a token taken in this transaction for a dial that turned out not to be placeable. */
export async function refundPacingToken(tx: TransactionClient, account: string): Promise<void> {
  await tx.$executeRaw`UPDATE dial_rate_buckets SET tokens = LEAST(${BURST}::float8, tokens + 1) WHERE account = ${account}`;
}
