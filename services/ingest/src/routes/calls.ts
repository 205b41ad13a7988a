import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { recordWholeUpload } from "../calls/intake.ts";
import { chunkObjectKey } from "../calls/object-keys.ts";
import { callDetail, listCalls } from "../calls/queries.ts";
import { acceptedView, callSummaryView, callView, phaseView } from "../calls/views.ts";
import { errorResponses } from "../http/api-error.ts";
import { tenantOf } from "../http/auth.ts";
import { binaryBody } from "../http/openapi.ts";
import { pageQuery, pageRequestOf } from "../http/pages.ts";
import { acceptStreamedBodies, AUDIO_MEDIA_TYPES, audioBodyOf } from "../uploads/audio-body.ts";
import { receiveAudio } from "../uploads/receive-audio.ts";
import { callIdOf, type CallRouteDeps } from "./route-deps.ts";

const failurePolicy = z.enum(["fail", "partial"]).optional().describe("What a chunk that fails for good does to the call");
/** The per-call PII redaction override, shared by the upload routes' query strings. */
export const redactPiiOverride = z
  .enum(["true", "false"])
  .transform((value) => value === "true")
  .optional()
  .describe("Redact PII from this call's stored transcript and summary (true) or not (false), whatever the tenant's setting; unset: the tenant's setting");

/** POST /v1/calls: a whole recording, streamed to object storage, durably handed to the pipeline. */
export const callUploadRoutes =
  (deps: CallRouteDeps): FastifyPluginAsyncZod =>
  async (app) => {
    await acceptStreamedBodies(app, deps.maxUploadBytes);

    app.post(
      "/v1/calls",
      {
        config: {
          openapiBody: binaryBody(
            "The recording, raw or as the file part of a multipart form. Its content decides the format (WAV, MP3, M4A/AAC, OGG/Opus, WebM, FLAC), not its Content-Type.",
            AUDIO_MEDIA_TYPES,
          ),
        },
        schema: {
          summary: "Upload a recording",
          tags: ["calls"],
          querystring: z.object({ failurePolicy, redactPii: redactPiiOverride }),
          headers: z.object({ "callflow-metadata": z.string().optional().describe("A JSON object stored with the call") }),
          response: { 202: acceptedView, ...errorResponses(400, 401, 413, 415, 429) },
        },
      },
      async (request, reply) => {
        const tenantId = tenantOf(request);
        const callId = randomUUID();
        const { body, declaredLength, metadata } = await audioBodyOf(request);
        const audio = await receiveAudio(deps, {
          body,
          declaredLength,
          maxBytes: deps.maxUploadBytes,
          keyFor: (format) => chunkObjectKey(tenantId, callId, 1, 0, format),
        });
        try {
          const accepted = await recordWholeUpload(deps.commit, {
            tenantId,
            callId,
            source: "upload",
            audio,
            failurePolicy: request.query.failurePolicy,
            redactPii: request.query.redactPii,
            ...(metadata ? { metadata } : {}),
          });
          return reply.code(202).header("location", `/v1/calls/${accepted.id}`).send({ id: accepted.id, status: accepted.status, audioVersion: accepted.audioVersion });
        } catch (error) {
          await deps.store.delete(audio.key).catch(() => undefined);
          throw error;
        }
      },
    );
  };

/** GET /v1/calls and /v1/calls/{id}: status, stage timeline, chunks. */
export const callReadRoutes =
  (deps: Pick<CallRouteDeps, "db">): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/v1/calls/:id",
      {
        schema: {
          summary: "A call's status, stage timeline (attempts, times, errors) and chunks",
          tags: ["calls"],
          params: z.object({ id: z.string() }),
          response: { 200: callView, ...errorResponses(401, 404, 429) },
        },
      },
      async (request) => callDetail(deps.db, tenantOf(request), callIdOf(request.params)),
    );

    app.get(
      "/v1/calls",
      {
        schema: {
          summary: "The tenant's calls, newest first",
          tags: ["calls"],
          querystring: z.object({
            status: callSummaryView.shape.status.optional(),
            phase: phaseView.optional(),
            source: callSummaryView.shape.source.optional().describe("How the call came in: upload, resumable, recorder, or dial (an outbound call's recording)"),
            errorCode: z.string().max(100).optional().describe("Failed calls with this error code, e.g. unsupported_audio"),
            ...pageQuery,
          }),
          response: { 200: z.object({ items: z.array(callSummaryView), nextCursor: z.string().nullable() }), ...errorResponses(400, 401, 429) },
        },
      },
      async (request) => {
        const { status, phase, source, errorCode } = request.query;
        return listCalls(deps.db, tenantOf(request), { status, phase, source, errorCode, ...pageRequestOf(request.query) });
      },
    );
  };
