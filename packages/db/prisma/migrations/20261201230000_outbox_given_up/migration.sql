-- AlterTable
ALTER TABLE "outbox" ADD COLUMN     "failed_at" TIMESTAMPTZ(3);
