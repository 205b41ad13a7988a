import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { addRecorderChunk, finishRecorderUpload, openRecorderCall, precheckRecorderChunk } from "../calls/intake.ts";
import { chunkObjectKey } from "../calls/object-keys.ts";
import { acceptedView } from "../calls/views.ts";
import { errorResponses } from "../http/api-error.ts";
import { tenantOf } from "../http/auth.ts";
import { binaryBody } from "../http/openapi.ts";
import { acceptStreamedBodies, AUDIO_MEDIA_TYPES, audioBodyOf } from "../uploads/audio-body.ts";
import { receiveAudio } from "../uploads/receive-audio.ts";
import { callIdOf, type CallRouteDeps } from "./route-deps.ts";

const chunkView = z.object({
  callId: z.uuid(),
  chunkId: z.uuid(),
  index: z.number().int(),
  status: z.string(),
  startOffsetSeconds: z.number(),
});

/** POST /v1/calls/recorder and /v1/calls/{id}/finish: a recorder's call, opened and then closed. */
export const recorderRoutes =
  (deps: Pick<CallRouteDeps, "commit">): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      "/v1/calls/recorder",
      {
        schema: {
          summary: "Open a call a recorder will send in chunks",
          tags: ["recorder"],
          body: z
            .object({
              failurePolicy: z.enum(["fail", "partial"]).optional(),
              metadata: z.record(z.string(), z.json()).optional(),
              redactPii: z.boolean().optional().describe("Redact PII from this call's stored transcript and summary, whatever the tenant's setting; unset: the tenant's setting"),
            })
            .nullish(),
          response: { 201: acceptedView, ...errorResponses(400, 401, 429) },
        },
      },
      async (request, reply) => {
        const call = await openRecorderCall(deps.commit, {
          tenantId: tenantOf(request),
          ...(request.body?.failurePolicy ? { failurePolicy: request.body.failurePolicy } : {}),
          ...(request.body?.metadata ? { metadata: request.body.metadata as never } : {}),
          redactPii: request.body?.redactPii,
        });
        return reply.code(201).header("location", `/v1/calls/${call.id}`).send(call);
      },
    );

    app.post(
      "/v1/calls/:id/finish",
      {
        schema: {
          summary: "No more chunks: the call is processed once every chunk is transcribed",
          tags: ["recorder"],
          params: z.object({ id: z.string() }),
          body: z.object({ chunkCount: z.number().int().min(1).optional().describe("Default: the highest index sent + 1") }).nullish(),
          response: { 202: acceptedView.extend({ chunkCount: z.number().int() }), ...errorResponses(400, 401, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const finished = await finishRecorderUpload(deps.commit, {
          tenantId: tenantOf(request),
          callId: callIdOf(request.params),
          chunkCount: request.body?.chunkCount,
        });
        return reply.code(202).send(finished);
      },
    );
  };

/** POST /v1/calls/{id}/chunks?index=n: one chunk, idempotent by index. */
export const recorderChunkRoutes =
  (deps: CallRouteDeps): FastifyPluginAsyncZod =>
  async (app) => {
    await acceptStreamedBodies(app, deps.maxUploadBytes);
    app.post(
      "/v1/calls/:id/chunks",
      {
        config: { openapiBody: binaryBody("The chunk's audio, validated like a whole upload", AUDIO_MEDIA_TYPES) },
        schema: {
          summary: "Add chunk `index` of a recorder call (a repeated index changes nothing and answers 200)",
          tags: ["recorder"],
          params: z.object({ id: z.string() }),
          querystring: z.object({
            index: z.coerce.number().int().min(0),
            offsetSeconds: z.coerce.number().min(0).optional().describe("Where the chunk starts in the call; default: the sum of the chunks before it"),
          }),
          response: { 200: chunkView, 202: chunkView, ...errorResponses(400, 401, 404, 409, 413, 415, 429) },
        },
      },
      async (request, reply) => {
        const tenantId = tenantOf(request);
        const callId = callIdOf(request.params);
        const { index, offsetSeconds } = request.query;
        const stored = await precheckRecorderChunk(deps.db, { tenantId, callId, index });
        if (stored) return reply.code(200).header("connection", "close").send(stored);

        const { body, declaredLength } = await audioBodyOf(request);
        const audio = await receiveAudio(deps, {
          body,
          declaredLength,
          maxBytes: deps.maxUploadBytes,
          keyFor: (format) => chunkObjectKey(tenantId, callId, 1, index, format),
        });
        try {
          const chunk = await addRecorderChunk(deps.commit, { tenantId, callId, index, offsetSeconds, audio });
          if (!chunk.created) await deps.store.delete(audio.key);
          return reply.code(chunk.created ? 202 : 200).send(chunk);
        } catch (error) {
          await deps.store.delete(audio.key).catch(() => undefined);
          throw error;
        }
      },
    );
  };
