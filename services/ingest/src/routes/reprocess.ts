import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { Stage as EventStage } from "@callflow/contracts";
import type { AudioTrimmer } from "../audio/trim.ts";
import type { Commit } from "../calls/commit.ts";
import { lockCall } from "../calls/intake.ts";
import { chunkObjectKey } from "../calls/object-keys.ts";
import { findCall } from "../calls/queries.ts";
import { assertTrimmable, recordTrimmedVersion, retryFailedCall, trimSourceKey } from "../calls/reprocess.ts";
import { acceptedView } from "../calls/views.ts";
import { ApiError, conflict, errorResponses, notFound } from "../http/api-error.ts";
import { principalOf } from "../http/auth.ts";
import { receiveAudio } from "../uploads/receive-audio.ts";
import { callIdOf, type CallRouteDeps } from "./route-deps.ts";

/**
 * POST /v1/calls/{id}/summary/retry: the call's current transcript is summarized again, as a new
 * Summary revision. Through the durable path: the summary stage back to `queued` and callTranscribed
 * re-emitted in one transaction; the summary worker claims the queued stage (its next attempt) and
 * stores revision n+1. A completed call stays completed (its summary is replaced by the new
 * revision); a call that failed at summary is processing again.
 */
const retrySummary = (commit: Commit, input: { tenantId: string; callId: string; actor: string }) =>
  commit(async (tx, emit) => {
    const { tenantId, callId } = input;
    const call = await lockCall(tx, tenantId, callId);
    if (!call) throw notFound("call", callId);
    const { audioVersion } = call;
    const transcript = await tx.transcript.findUnique({ where: { callId_audioVersion: { callId, audioVersion } } });
    if (!transcript) throw conflict("transcript_not_ready", `the call is ${call.status} and has no transcript yet; a summary can be re-run once it is transcribed`);
    const key = { callId_stage_audioVersion: { callId, stage: "summary" as const, audioVersion } };
    const before = await tx.stageRun.findUnique({ where: key });
    // Queued or running: a summary is already on its way; a second re-run would only race it.
    if (before && (before.status === "queued" || before.status === "running")) {
      throw conflict("summary_in_progress", `the summary stage is ${before.status}; wait for it to finish before re-running it`);
    }
    const run = await tx.stageRun.upsert({
      where: key,
      create: { tenantId, callId, stage: "summary", audioVersion, status: "queued" },
      update: { status: "queued", errorCode: null, errorMessage: null, startedAt: null, finishedAt: null, heartbeatAt: null },
    });
    const reopened = call.status === "failed" && call.failedStage === "summary";
    if (reopened) await tx.call.update({ where: { id: callId }, data: { status: "processing", failedStage: null, errorCode: null, errorMessage: null } });
    await emit("stageRedriven", { tenantId, callId, stage: EventStage.SUMMARY, entityId: run.id, attempt: run.attempt });
    await emit("callTranscribed", { tenantId, callId, transcriptId: transcript.id, partial: transcript.partial, audioVersion });
    const status = reopened ? ("processing" as const) : call.status;
    await tx.auditEntry.create({
      data: {
        actor: input.actor,
        action: "call.summary_retry",
        entityType: "call",
        entityId: callId,
        tenantId,
        reason: "summary re-run requested through the API",
        before: { status: call.status, failedStage: call.failedStage, summaryStage: before?.status ?? null, summaryAttempt: before?.attempt ?? 0 },
        after: { status, summaryStage: "queued" },
      },
    });
    return { id: callId, status, audioVersion, stages: ["summary"] };
  });

/** POST /v1/calls/{id}/retry, /summary/retry and /trim. */
export const reprocessRoutes =
  (deps: CallRouteDeps & { trimmer: AudioTrimmer }): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      "/v1/calls/:id/retry",
      {
        schema: {
          summary: "Queue a failed call's failed stages again",
          tags: ["calls"],
          params: z.object({ id: z.string() }),
          response: { 202: acceptedView.extend({ stages: z.array(z.string()) }), ...errorResponses(401, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const result = await retryFailedCall(deps.commit, { tenantId: principal.tenantId, callId: callIdOf(request.params), actor: `api-key:${principal.keyId}` });
        return reply.code(202).send(result);
      },
    );

    app.post(
      "/v1/calls/:id/summary/retry",
      {
        schema: {
          summary: "Summarize a transcribed call again; the result is stored as the summary's next revision",
          tags: ["calls"],
          params: z.object({ id: z.string() }),
          response: { 202: acceptedView.extend({ stages: z.array(z.string()) }), ...errorResponses(401, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const result = await retrySummary(deps.commit, { tenantId: principal.tenantId, callId: callIdOf(request.params), actor: `api-key:${principal.keyId}` });
        return reply.code(202).send(result);
      },
    );

    app.post(
      "/v1/calls/:id/trim",
      {
        schema: {
          summary: "Keep only [startSeconds, endSeconds) of a completed or failed call's audio and process it again as a new audio version",
          tags: ["calls"],
          params: z.object({ id: z.string() }),
          body: z.object({ startSeconds: z.number().min(0), endSeconds: z.number().positive() }),
          response: { 202: acceptedView, ...errorResponses(400, 401, 404, 409, 429, 500) },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const callId = callIdOf(request.params);
        const { startSeconds, endSeconds } = request.body;
        const call = await findCall(deps.db, principal.tenantId, callId);
        assertTrimmable(call);
        if (endSeconds <= startSeconds) throw new ApiError(400, "invalid_trim", "endSeconds must be greater than startSeconds");
        if (call.durationSeconds !== null && startSeconds >= call.durationSeconds) {
          throw new ApiError(400, "invalid_trim", `the call is ${call.durationSeconds.toFixed(3)} s long; startSeconds is past its end`);
        }
        const sourceKey = await trimSourceKey(deps.db, call);
        if (!sourceKey) throw conflict("no_source_audio", "the call's chunks are not merged into one recording yet; trim it once the merge succeeded");

        const cut = deps.trimmer.trim(await deps.store.presignGet(sourceKey, 3_600), { startSeconds, endSeconds });
        const [received, ffmpeg] = await Promise.allSettled([
          receiveAudio(deps, {
            body: cut.output,
            maxBytes: deps.maxUploadBytes,
            keyFor: (format) => chunkObjectKey(principal.tenantId, callId, call.audioVersion + 1, 0, format),
          }).catch((error: unknown) => {
            // Stop ffmpeg: nobody reads its output any more.
            cut.output.destroy();
            throw error;
          }),
          cut.done,
        ]);
        if (ffmpeg.status === "rejected" || received.status === "rejected") {
          if (received.status === "fulfilled") await deps.store.delete(received.value.key).catch(() => undefined);
          const reason = ffmpeg.status === "rejected" ? ffmpeg.reason : received.status === "rejected" ? received.reason : undefined;
          request.log.warn({ err: reason, callId }, "trim failed");
          throw new ApiError(500, "trim_failed", "the audio could not be cut; the call is unchanged");
        }
        try {
          const accepted = await recordTrimmedVersion(deps.commit, {
            tenantId: principal.tenantId,
            callId,
            fromVersion: call.audioVersion,
            audio: received.value,
            actor: `api-key:${principal.keyId}`,
            range: { startSeconds, endSeconds },
          });
          return reply.code(202).send(accepted);
        } catch (error) {
          await deps.store.delete(received.value.key).catch(() => undefined);
          throw error;
        }
      },
    );
  };
