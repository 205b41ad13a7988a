import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { AudioTrimmer } from "../audio/trim.ts";
import { chunkObjectKey } from "../calls/object-keys.ts";
import { findCall } from "../calls/queries.ts";
import { assertTrimmable, recordTrimmedVersion, retryFailedCall, trimSourceKey } from "../calls/reprocess.ts";
import { acceptedView } from "../calls/views.ts";
import { ApiError, conflict, errorResponses } from "../http/api-error.ts";
import { principalOf } from "../http/auth.ts";
import { receiveAudio } from "../uploads/receive-audio.ts";
import { callIdOf, type CallRouteDeps } from "./route-deps.ts";

/** POST /v1/calls/{id}/retry and /trim. */
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
