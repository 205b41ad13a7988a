import type { TransactionClient } from "@callflow/messaging";

/**
 * Pacing in Postgres, so every replica draws on one budget per provider account: a token bucket
 * (`dial_rate_buckets`) refilled at `callsPerSecond` with a burst of one. One token is one placement;
 * a burst of one keeps any second to the rate (plus the edge of the window), however many replicas run.
 *
 * Taken with one UPDATE … RETURNING inside the claim's transaction: the refill and the take are atomic,
 * and a claim that rolls back returns its token. Time is the caller's clock, never the database's, so
 * tests move it; a clock behind the last refresh refills nothing.
 */
export async function takePacingToken(tx: TransactionClient, account: string, now: Date, callsPerSecond: number): Promise<{ taken: true } | { taken: false; waitMs: number }> {
  await tx.$executeRaw`INSERT INTO dial_rate_buckets (account, tokens, refreshed_at) VALUES (${account}, 1, ${now}) ON CONFLICT (account) DO NOTHING`;
  const taken = await tx.$queryRaw<{ tokens: number }[]>`
    UPDATE dial_rate_buckets
       SET tokens = LEAST(1, tokens + GREATEST(0, EXTRACT(EPOCH FROM (${now}::timestamptz - refreshed_at))) * ${callsPerSecond}::float8) - 1,
           refreshed_at = GREATEST(refreshed_at, ${now}::timestamptz)
     WHERE account = ${account}
       AND LEAST(1, tokens + GREATEST(0, EXTRACT(EPOCH FROM (${now}::timestamptz - refreshed_at))) * ${callsPerSecond}::float8) >= 1
    RETURNING tokens`;
  if (taken.length === 1) return { taken: true };
  const [bucket] = await tx.$queryRaw<{ tokens: number }[]>`
    SELECT LEAST(1, tokens + GREATEST(0, EXTRACT(EPOCH FROM (${now}::timestamptz - refreshed_at))) * ${callsPerSecond}::float8)::float8 AS tokens
      FROM dial_rate_buckets WHERE account = ${account}`;
  const missing = 1 - Number(bucket?.tokens ?? 0);
  return { taken: false, waitMs: Math.max(1, Math.ceil((missing / callsPerSecond) * 1000)) };
}

/** Gives back a token taken in this transaction for a dial that turned out not to be placeable. */
export async function refundPacingToken(tx: TransactionClient, account: string): Promise<void> {
  await tx.$executeRaw`UPDATE dial_rate_buckets SET tokens = LEAST(1, tokens + 1) WHERE account = ${account}`;
}
