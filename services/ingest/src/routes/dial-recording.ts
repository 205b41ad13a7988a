import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Commit } from "../calls/commit.ts";
import { answerForDialRecording } from "../dials/recording-answer.ts";
import { conflict, errorResponses, notFound } from "../http/api-error.ts";
import { principalOf, tenantOf } from "../http/auth.ts";
import { answerUnlessReady, recordingQuery, recordingResponses, serveCallRecording, type ArtifactRouteDeps } from "./artifacts.ts";
import { dialIdOf } from "./route-deps.ts";

const FETCH_FACTS = { select: { status: true, attempt: true, maxAttempts: true, callId: true, errorCode: true, errorMessage: true } } as const;

/** GET /v1/dials/{id}/recording and POST /v1/dials/{id}/recording/retry: the player's contract for a placed call. */
export const dialRecordingRoutes =
  (deps: ArtifactRouteDeps & { commit: Commit }): FastifyPluginAsyncZod =>
  async (app) => {
    const params = z.object({ id: z.string() });

    app.get(
      "/v1/dials/:id/recording",
      {
        schema: {
          summary: "The placed call's recording: 202 while it is fetched (attempt n/m), 404 no_recording when there is none, the terminal error after the last attempt",
          tags: ["dials"],
          params,
          querystring: recordingQuery,
          headers: z.object({ range: z.string().optional() }),
          response: { ...recordingResponses, ...errorResponses(401, 404, 429, 502, 503) },
        },
      },
      async (request, reply) => {
        const tenantId = tenantOf(request);
        const dialId = dialIdOf(request.params);
        const dial = await deps.db.dial.findFirst({ where: { id: dialId, tenantId }, select: { status: true, finishedAt: true, recordingFetch: FETCH_FACTS } });
        if (!dial) throw notFound("dial", dialId);
        const answer = answerForDialRecording({ status: dial.status, finishedAt: dial.finishedAt, fetch: dial.recordingFetch });
        if (answer.kind === "call") return serveCallRecording(deps, tenantId, answer.callId, request, reply);
        answerUnlessReady(answer, reply);
        return reply;
      },
    );

    app.post(
      "/v1/dials/:id/recording/retry",
      {
        schema: {
          summary: "Fetch a recording again whose fetch failed for good; its attempts start over",
          tags: ["dials"],
          params,
          response: { 202: z.object({ status: z.literal("queued"), attempt: z.object({ current: z.number().int(), max: z.number().int() }) }), ...errorResponses(401, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const { tenantId } = principal;
        const actor = `api-key:${principal.keyId}`;
        const dialId = dialIdOf(request.params);
        const reopened = await deps.commit(async (tx, emit) => {
          const fetch = await tx.recordingFetch.findFirst({ where: { dialId, tenantId }, select: { status: true, errorCode: true, maxAttempts: true } });
          if (!fetch) {
            if (!(await tx.dial.count({ where: { id: dialId, tenantId } }))) throw notFound("dial", dialId);
            throw conflict("recording_not_failed", "the dial's recording has not been fetched yet: there is nothing to retry");
          }
          if (fetch.status !== "failed") throw conflict("recording_not_failed", `the recording's fetch is ${fetch.status}: only a failed one is retried`);
          if (fetch.errorCode === "no_recording") throw conflict("no_recording", "the provider has no recording of this call: a retry cannot make one");
          const { count } = await tx.recordingFetch.updateMany({
            where: { dialId, tenantId, status: "failed" },
            data: { status: "queued", attempt: 0, startedAt: null, heartbeatAt: null, finishedAt: null, errorCode: null, errorMessage: null },
          });
          if (count !== 1) throw conflict("recording_not_failed", "the recording's fetch changed meanwhile; ask again");
          await tx.auditEntry.create({ data: { tenantId, actor, action: "recording.retry", entityType: "recording_fetch", entityId: dialId, reason: "retry requested through the API", before: { status: "failed", errorCode: fetch.errorCode }, after: { status: "queued", attempt: 0 } } });
          await emit("dialRecordingFetchRequested", { tenantId, dialId });
          return { status: "queued" as const, attempt: { current: 1, max: fetch.maxAttempts } };
        });
        return reply.code(202).send(reopened);
      },
    );
  };
