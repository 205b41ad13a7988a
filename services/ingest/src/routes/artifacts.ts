import { z } from "zod";
import type { FastifyReply } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { ReaperPolicy } from "@callflow/housekeeping";
import type { ObjectStore } from "@callflow/storage";
import { answerForArtifact, type ArtifactAnswer, type EstimateTuning } from "../calls/artifact-answer.ts";
import { loadArtifact } from "../calls/artifact-facts.ts";
import { ApiError, errorJson, errorResponses } from "../http/api-error.ts";
import { tenantOf } from "../http/auth.ts";
import { parseRange } from "../http/range.ts";
import { callIdOf, type CallRouteDeps } from "./route-deps.ts";

const pendingView = z.object({
  status: z.literal("pending"),
  stage: z.string(),
  stageStatus: z.string().describe("queued, running, or waiting (the stage before it is still working)"),
  retryAfterSeconds: z.number().int(),
  progress: z.object({ chunksDone: z.number().int(), chunksTotal: z.number().int().nullable() }),
  attempt: z
    .object({ current: z.number().int(), max: z.number().int() })
    .describe("The attempt of the work under way (the reaper re-drives lost work); after the last one the answer is terminal"),
  message: z.string().describe('e.g. "the transcript is being prepared (attempt 2/3)"'),
});

const transcriptView = z.object({
  callId: z.uuid(),
  audioVersion: z.number().int(),
  text: z.string(),
  segments: z.unknown(),
  partial: z.boolean(),
  missingChunkIndexes: z.array(z.number().int()),
  createdAt: z.string(),
});

const summaryView = z.object({
  callId: z.uuid(),
  revision: z.number().int(),
  model: z.string(),
  content: z.unknown(),
  createdAt: z.string(),
});

const artifactErrors = errorResponses(401, 404, 422, 429, 500);

/** Everything but "ready" ends the request here: 202 + Retry-After, 404, or the terminal error. */
export const answerUnlessReady = (answer: ArtifactAnswer, reply: FastifyReply): boolean => {
  switch (answer.kind) {
    case "ready":
      return false;
    case "pending":
      void reply
        .code(202)
        .header("retry-after", String(answer.retryAfterSeconds))
        .send({
          status: "pending",
          stage: answer.stage,
          stageStatus: answer.stageStatus,
          retryAfterSeconds: answer.retryAfterSeconds,
          progress: answer.progress,
          attempt: answer.attempt,
          message: answer.message,
        });
      return true;
    case "absent":
      throw new ApiError(404, answer.code, answer.message);
    case "failed":
      void reply.code(answer.statusCode).send({ error: { code: answer.code, message: answer.message, ...(answer.stage ? { stage: answer.stage } : {}) } });
      return true;
  }
};

export interface ArtifactRouteDeps extends Pick<CallRouteDeps, "db"> {
  store: ObjectStore;
  recordingRedirect: boolean;
  estimate?: EstimateTuning;
  /** The reaper's budget, for the attempt a 202 reports; default its defaults. */
  reaperPolicy?: ReaperPolicy | undefined;
}

const CODEC_TYPES: Record<string, string> = { flac: "audio/flac", mp3: "audio/mpeg", opus: "audio/ogg", vorbis: "audio/ogg", aac: "audio/mp4", pcm_s16le: "audio/wav", wav: "audio/wav" };

export const recordingQuery = z.object({ redirect: z.enum(["true", "false"]).optional().describe("Answer 302 to a presigned URL instead of streaming") });

export const recordingResponses = {
  200: z.unknown().describe("The audio"),
  206: z.unknown().describe("The requested byte range of the audio"),
  202: pendingView,
  ...artifactErrors,
  416: artifactErrors[404]!,
};

/**
 * A call's merged recording as the player gets it (invariant 10): 202 + Retry-After while it is made,
 * 404 or the terminal error when it never will be, else the audio (Range) or a presigned redirect.
 */
export const serveCallRecording = async (
  deps: ArtifactRouteDeps,
  tenantId: string,
  callId: string,
  request: { query: z.infer<typeof recordingQuery>; headers: { range?: string | undefined } },
  reply: FastifyReply,
): Promise<FastifyReply> => {
  const { facts, recording } = await loadArtifact(deps.db, tenantId, callId, "recording", deps.reaperPolicy);
  if (answerUnlessReady(answerForArtifact(facts, deps.estimate), reply) || !recording) return reply;
  const redirect = request.query.redirect === undefined ? deps.recordingRedirect : request.query.redirect === "true";
  if (redirect) return reply.redirect(await deps.store.presignGet(recording.objectKey, 300), 302);

  const size = recording.sizeBytes !== null ? Number(recording.sizeBytes) : ((await deps.store.head(recording.objectKey))?.size ?? 0);
  const range = parseRange(request.headers.range, size);
  if (range === "unsatisfiable") {
    return reply.code(416).header("content-range", `bytes */${size}`).send(errorJson("range_not_satisfiable", `the recording has ${size} bytes`));
  }
  const download = await deps.store.getStream(recording.objectKey, range ? { range } : {});
  reply
    .header("accept-ranges", "bytes")
    .header("content-type", download.contentType ?? CODEC_TYPES[recording.codec ?? ""] ?? "application/octet-stream")
    .header("content-length", String(download.contentLength))
    .header("etag", `"${download.etag}"`);
  if (range) reply.code(206).header("content-range", `bytes ${range.start}-${range.end}/${size}`);
  return reply.send(download.body);
};

/** GET /v1/calls/{id}/transcript|summary|recording (invariant 10). */
export const artifactRoutes =
  (deps: ArtifactRouteDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const params = z.object({ id: z.string() });

    app.get(
      "/v1/calls/:id/transcript",
      { schema: { summary: "The call's transcript", tags: ["artifacts"], params, response: { 200: transcriptView, 202: pendingView, ...artifactErrors } } },
      async (request, reply) => {
        const { facts, transcript } = await loadArtifact(deps.db, tenantOf(request), callIdOf(request.params), "transcript", deps.reaperPolicy);
        if (answerUnlessReady(answerForArtifact(facts, deps.estimate), reply) || !transcript) return reply;
        return {
          callId: transcript.callId,
          audioVersion: transcript.audioVersion,
          text: transcript.text,
          segments: transcript.segments,
          partial: transcript.partial,
          missingChunkIndexes: transcript.missingChunkIndexes,
          createdAt: transcript.createdAt.toISOString(),
        };
      },
    );

    app.get(
      "/v1/calls/:id/summary",
      { schema: { summary: "The call's summary and extracted fields", tags: ["artifacts"], params, response: { 200: summaryView, 202: pendingView, ...artifactErrors } } },
      async (request, reply) => {
        const { facts, summary } = await loadArtifact(deps.db, tenantOf(request), callIdOf(request.params), "summary", deps.reaperPolicy);
        if (answerUnlessReady(answerForArtifact(facts, deps.estimate), reply) || !summary) return reply;
        return { callId: summary.callId, revision: summary.revision, model: summary.model, content: summary.content, createdAt: summary.createdAt.toISOString() };
      },
    );

    app.get(
      "/v1/calls/:id/recording",
      {
        schema: {
          summary: "The call's merged, verified recording (Range supported, or a redirect to a presigned URL)",
          tags: ["artifacts"],
          params,
          querystring: recordingQuery,
          headers: z.object({ range: z.string().optional() }),
          response: recordingResponses,
        },
      },
      async (request, reply) => serveCallRecording(deps, tenantOf(request), callIdOf(request.params), request, reply),
    );
  };
