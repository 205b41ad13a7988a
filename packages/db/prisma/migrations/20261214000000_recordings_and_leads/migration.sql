-- A placed call's recording fetch (one per dial, the job's owner and deadline), leads (one per call),
-- and which calls a tenant turns into leads.
-- CreateEnum
CREATE TYPE "lead_mode" AS ENUM ('off', 'dials', 'all');

-- AlterTable
ALTER TABLE "tenants" ADD COLUMN     "lead_mode" "lead_mode" NOT NULL DEFAULT 'dials';

-- CreateTable
CREATE TABLE "recording_fetches" (
    "dial_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "call_id" UUID NOT NULL,
    "recording_url" TEXT,
    "status" "stage_status" NOT NULL DEFAULT 'queued',
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL DEFAULT 3,
    "started_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "error_code" TEXT,
    "error_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "recording_fetches_pkey" PRIMARY KEY ("dial_id")
);

-- CreateTable
CREATE TABLE "leads" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "call_id" UUID NOT NULL,
    "dial_id" UUID,
    "direction" TEXT NOT NULL,
    "from_number" TEXT,
    "to_number" TEXT,
    "caller_name" TEXT,
    "callback_number" TEXT,
    "intent" TEXT,
    "follow_up_date" TEXT,
    "summary_revision" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "leads_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "recording_fetches_status_updated_at_idx" ON "recording_fetches"("status", "updated_at");

-- CreateIndex
CREATE UNIQUE INDEX "recording_fetches_call_id_key" ON "recording_fetches"("call_id");

-- CreateIndex
CREATE UNIQUE INDEX "leads_call_id_key" ON "leads"("call_id");

-- CreateIndex
CREATE INDEX "leads_tenant_id_created_at_idx" ON "leads"("tenant_id", "created_at");

-- AddForeignKey
ALTER TABLE "recording_fetches" ADD CONSTRAINT "recording_fetches_dial_id_fkey" FOREIGN KEY ("dial_id") REFERENCES "dials"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "leads" ADD CONSTRAINT "leads_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "leads" ADD CONSTRAINT "leads_call_id_fkey" FOREIGN KEY ("call_id") REFERENCES "calls"("id") ON DELETE CASCADE ON UPDATE CASCADE;

