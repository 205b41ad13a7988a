-- The dial API and the dialer's state machine. Generated with `db:diff`, then edited by hand where
-- Prisma cannot say what is meant: existing rows are carried over (dialing becomes placing, the
-- integer priority becomes high, normal or low, scheduled_at becomes next_attempt_at), and the
-- partial unique index on active dedup keys, which the Prisma schema cannot express, is added last.
-- No statement may contain a semicolon inside it: the driver adapter runs the script statement by statement.

-- CreateEnum
CREATE TYPE "dial_priority" AS ENUM ('high', 'normal', 'low');

-- AlterEnum: a new type rather than ADD VALUE, so the index below may use the new values in this migration.
CREATE TYPE "dial_status_new" AS ENUM ('queued', 'scheduled', 'placing', 'placed', 'ringing', 'in_progress', 'completed', 'no_answer', 'busy', 'failed', 'canceled');
ALTER TABLE "dials" ALTER COLUMN "status" DROP DEFAULT;
ALTER TABLE "dials" ALTER COLUMN "status" TYPE "dial_status_new"
  USING (CASE WHEN "status" = 'dialing' THEN 'placing' ELSE "status"::text END)::"dial_status_new";
ALTER TYPE "dial_status" RENAME TO "dial_status_old";
ALTER TYPE "dial_status_new" RENAME TO "dial_status";
DROP TYPE "dial_status_old";
ALTER TABLE "dials" ALTER COLUMN "status" SET DEFAULT 'queued';

-- DropIndex
DROP INDEX "dials_tenant_id_dedup_key_idx";

-- AlterTable: a positive priority was urgent, a negative one could wait.
ALTER TABLE "dials" ALTER COLUMN "priority" DROP DEFAULT;
ALTER TABLE "dials" ALTER COLUMN "priority" TYPE "dial_priority"
  USING (CASE WHEN "priority" > 0 THEN 'high' WHEN "priority" < 0 THEN 'low' ELSE 'normal' END)::"dial_priority";
ALTER TABLE "dials" ALTER COLUMN "priority" SET DEFAULT 'normal';
ALTER TABLE "dials" RENAME COLUMN "scheduled_at" TO "next_attempt_at";
ALTER TABLE "dials" ADD COLUMN     "callee_timezone" TEXT,
ADD COLUMN     "campaign" TEXT,
ADD COLUMN     "idempotency_key" TEXT,
ADD COLUMN     "lead_id" UUID,
ADD COLUMN     "max_attempts" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "not_before" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "tenants" ADD COLUMN     "call_window_end_minute" INTEGER NOT NULL DEFAULT 1200,
ADD COLUMN     "call_window_start_minute" INTEGER NOT NULL DEFAULT 540;

-- CreateTable
CREATE TABLE "dial_events" (
    "id" UUID NOT NULL,
    "dial_id" UUID NOT NULL,
    "status" "dial_status" NOT NULL,
    "attempt" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "error_code" TEXT,
    "detail" TEXT,

    CONSTRAINT "dial_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "do_not_call" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "number" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "do_not_call_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "dial_events_dial_id_at_idx" ON "dial_events"("dial_id", "at");

-- CreateIndex
CREATE INDEX "do_not_call_tenant_id_created_at_idx" ON "do_not_call"("tenant_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "do_not_call_tenant_id_number_key" ON "do_not_call"("tenant_id", "number");

-- CreateIndex
CREATE INDEX "dials_tenant_id_created_at_idx" ON "dials"("tenant_id", "created_at");

-- CreateIndex
CREATE INDEX "dials_status_priority_next_attempt_at_idx" ON "dials"("status", "priority", "next_attempt_at");

-- CreateIndex: NULL keys never collide, so only dials requested with an Idempotency-Key are constrained.
CREATE UNIQUE INDEX "dials_tenant_id_idempotency_key_key" ON "dials"("tenant_id", "idempotency_key");

-- AddForeignKey
ALTER TABLE "dial_events" ADD CONSTRAINT "dial_events_dial_id_fkey" FOREIGN KEY ("dial_id") REFERENCES "dials"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "do_not_call" ADD CONSTRAINT "do_not_call_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written. Before the index below, an active dial whose dedup key an older active dial of the
-- tenant already holds is canceled: the older one is the dial that was asked for first.
UPDATE "dials" AS d
SET "status" = 'canceled', "error_code" = 'duplicate_dial', "finished_at" = CURRENT_TIMESTAMP, "updated_at" = CURRENT_TIMESTAMP,
    "error_message" = 'canceled by migration 20261210000000_dials_api: an older active dial has the same dedup key'
WHERE d."dedup_key" IS NOT NULL
  AND d."status" IN ('queued', 'scheduled', 'placing', 'placed', 'ringing', 'in_progress')
  AND EXISTS (
    SELECT 1 FROM "dials" AS o
    WHERE o."tenant_id" = d."tenant_id" AND o."dedup_key" = d."dedup_key"
      AND o."status" IN ('queued', 'scheduled', 'placing', 'placed', 'ringing', 'in_progress')
      AND (o."created_at", o."id") < (d."created_at", d."id"));

-- Hand-written (the Prisma schema cannot express a partial index): while a dial is active, no other
-- dial of its tenant has its dedup key. Two concurrent identical requests cannot both insert.
CREATE UNIQUE INDEX "dials_active_dedup_key" ON "dials"("tenant_id", "dedup_key")
  WHERE "status" IN ('queued', 'scheduled', 'placing', 'placed', 'ringing', 'in_progress');
