-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "call_status" AS ENUM ('uploading', 'processing', 'completed', 'failed');

-- CreateEnum
CREATE TYPE "call_source" AS ENUM ('upload', 'resumable', 'recorder', 'dial');

-- CreateEnum
CREATE TYPE "failure_policy" AS ENUM ('fail', 'partial');

-- CreateEnum
CREATE TYPE "chunk_status" AS ENUM ('uploading', 'queued', 'running', 'transcribed', 'failed', 'superseded');

-- CreateEnum
CREATE TYPE "stage" AS ENUM ('transcription', 'merge', 'summary', 'completion');

-- CreateEnum
CREATE TYPE "stage_status" AS ENUM ('queued', 'running', 'succeeded', 'failed');

-- CreateEnum
CREATE TYPE "dial_status" AS ENUM ('queued', 'dialing', 'ringing', 'in_progress', 'completed', 'no_answer', 'busy', 'failed', 'canceled');

-- CreateTable
CREATE TABLE "tenants" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "webhook_url" TEXT,
    "webhook_secret" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "calls" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "status" "call_status" NOT NULL DEFAULT 'uploading',
    "source" "call_source" NOT NULL,
    "audio_version" INTEGER NOT NULL DEFAULT 1,
    "upload_finished_at" TIMESTAMPTZ(3),
    "expected_chunk_count" INTEGER,
    "failure_policy" "failure_policy" NOT NULL DEFAULT 'fail',
    "partial" BOOLEAN NOT NULL DEFAULT false,
    "missing_chunk_indexes" INTEGER[],
    "duration_seconds" DOUBLE PRECISION,
    "size_bytes" BIGINT,
    "content_type" TEXT,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "failed_stage" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "calls_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "chunks" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "call_id" UUID NOT NULL,
    "audio_version" INTEGER NOT NULL DEFAULT 1,
    "index" INTEGER NOT NULL,
    "parent_chunk_id" UUID,
    "object_key" TEXT NOT NULL,
    "content_type" TEXT,
    "size_bytes" BIGINT,
    "duration_seconds" DOUBLE PRECISION,
    "start_offset_seconds" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "status" "chunk_status" NOT NULL DEFAULT 'queued',
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "provider" TEXT,
    "provider_job_id" TEXT,
    "text" TEXT,
    "segments" JSONB,
    "error_code" TEXT,
    "error_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "chunks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stage_runs" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "call_id" UUID NOT NULL,
    "stage" "stage" NOT NULL,
    "audio_version" INTEGER NOT NULL DEFAULT 1,
    "status" "stage_status" NOT NULL DEFAULT 'queued',
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "error_code" TEXT,
    "error_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "stage_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "transcripts" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "call_id" UUID NOT NULL,
    "audio_version" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "segments" JSONB NOT NULL,
    "partial" BOOLEAN NOT NULL DEFAULT false,
    "missing_chunk_indexes" INTEGER[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "transcripts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "summaries" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "call_id" UUID NOT NULL,
    "transcript_id" UUID NOT NULL,
    "revision" INTEGER NOT NULL DEFAULT 1,
    "model" TEXT NOT NULL,
    "content" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "summaries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "merged_recordings" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "call_id" UUID NOT NULL,
    "audio_version" INTEGER NOT NULL,
    "object_key" TEXT NOT NULL,
    "duration_seconds" DOUBLE PRECISION,
    "size_bytes" BIGINT,
    "codec" TEXT,
    "inputs" JSONB NOT NULL,
    "skipped" JSONB NOT NULL DEFAULT '[]',
    "partial" BOOLEAN NOT NULL DEFAULT false,
    "verified_at" TIMESTAMPTZ(3),
    "error_code" TEXT,
    "error_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "merged_recordings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dials" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "to_number" TEXT NOT NULL,
    "from_number" TEXT,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "dedup_key" TEXT,
    "status" "dial_status" NOT NULL DEFAULT 'queued',
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "provider_call_id" TEXT,
    "scheduled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "call_id" UUID,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "error_code" TEXT,
    "error_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "dials_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "payload" BYTEA NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbox" (
    "consumer" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_pkey" PRIMARY KEY ("consumer","message_id")
);

-- CreateTable
CREATE TABLE "dead_letters" (
    "id" UUID NOT NULL,
    "stream" TEXT NOT NULL,
    "consumer" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "stream_sequence" BIGINT NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "payload" BYTEA NOT NULL,
    "delivery_count" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "error_code" TEXT,
    "error_message" TEXT,
    "entity_type" TEXT,
    "entity_id" TEXT,
    "tenant_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "replay_count" INTEGER NOT NULL DEFAULT 0,
    "replayed_at" TIMESTAMPTZ(3),

    CONSTRAINT "dead_letters_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "tenant_id" UUID,
    "reason" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,
    "sweep_id" TEXT,
    "dry_run" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_tenant_id_idx" ON "api_keys"("tenant_id");

-- CreateIndex
CREATE INDEX "calls_tenant_id_created_at_idx" ON "calls"("tenant_id", "created_at");

-- CreateIndex
CREATE INDEX "calls_tenant_id_status_idx" ON "calls"("tenant_id", "status");

-- CreateIndex
CREATE INDEX "chunks_status_heartbeat_at_idx" ON "chunks"("status", "heartbeat_at");

-- CreateIndex
CREATE INDEX "chunks_provider_job_id_idx" ON "chunks"("provider_job_id");

-- CreateIndex
CREATE UNIQUE INDEX "chunks_call_id_audio_version_index_key" ON "chunks"("call_id", "audio_version", "index");

-- CreateIndex
CREATE INDEX "stage_runs_status_heartbeat_at_idx" ON "stage_runs"("status", "heartbeat_at");

-- CreateIndex
CREATE UNIQUE INDEX "stage_runs_call_id_stage_audio_version_key" ON "stage_runs"("call_id", "stage", "audio_version");

-- CreateIndex
CREATE UNIQUE INDEX "transcripts_call_id_audio_version_key" ON "transcripts"("call_id", "audio_version");

-- CreateIndex
CREATE UNIQUE INDEX "summaries_transcript_id_revision_key" ON "summaries"("transcript_id", "revision");

-- CreateIndex
CREATE UNIQUE INDEX "merged_recordings_call_id_audio_version_key" ON "merged_recordings"("call_id", "audio_version");

-- CreateIndex
CREATE INDEX "dials_tenant_id_dedup_key_idx" ON "dials"("tenant_id", "dedup_key");

-- CreateIndex
CREATE INDEX "dials_status_created_at_idx" ON "dials"("status", "created_at");

-- CreateIndex
CREATE INDEX "outbox_published_at_created_at_idx" ON "outbox"("published_at", "created_at");

-- CreateIndex
CREATE INDEX "dead_letters_created_at_idx" ON "dead_letters"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "dead_letters_stream_consumer_stream_sequence_key" ON "dead_letters"("stream", "consumer", "stream_sequence");

-- CreateIndex
CREATE INDEX "audit_log_at_idx" ON "audit_log"("at");

-- CreateIndex
CREATE INDEX "audit_log_entity_type_entity_id_idx" ON "audit_log"("entity_type", "entity_id");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "calls" ADD CONSTRAINT "calls_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chunks" ADD CONSTRAINT "chunks_call_id_fkey" FOREIGN KEY ("call_id") REFERENCES "calls"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stage_runs" ADD CONSTRAINT "stage_runs_call_id_fkey" FOREIGN KEY ("call_id") REFERENCES "calls"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "transcripts" ADD CONSTRAINT "transcripts_call_id_fkey" FOREIGN KEY ("call_id") REFERENCES "calls"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "summaries" ADD CONSTRAINT "summaries_call_id_fkey" FOREIGN KEY ("call_id") REFERENCES "calls"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "summaries" ADD CONSTRAINT "summaries_transcript_id_fkey" FOREIGN KEY ("transcript_id") REFERENCES "transcripts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "merged_recordings" ADD CONSTRAINT "merged_recordings_call_id_fkey" FOREIGN KEY ("call_id") REFERENCES "calls"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dials" ADD CONSTRAINT "dials_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

