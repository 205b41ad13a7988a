-- The dialer's pacing: a token bucket per provider account, shared by every dialer replica.
-- No statement may contain a semicolon inside it: the driver adapter runs the script statement by statement.

-- CreateTable
CREATE TABLE "dial_rate_buckets" (
    "account" TEXT NOT NULL,
    "tokens" DOUBLE PRECISION NOT NULL,
    "refreshed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "dial_rate_buckets_pkey" PRIMARY KEY ("account")
);
