// The HTTP side of the BullMQ peer: what a team would put in front of its flow, with Callflow's own
// upload functions and authentication so that only the orchestration differs. The same three routes
// as Callflow's recorder API, so one load generator (uploadOverHttp) drives both sides.
import Fastify from "fastify";
import type { Db } from "../../packages/db/src/index.ts";
import type { ObjectStore } from "../../packages/storage/src/index.ts";
import { cachedApiKeyLookup, hashApiKey, postgresApiKeyLookup } from "../../services/ingest/src/auth/api-keys.ts";
import type { AudioProbe } from "../../services/ingest/src/audio/probe.ts";
import type { Commit } from "../../services/ingest/src/calls/commit.ts";
import { addRecorderChunk, finishRecorderUpload, openRecorderCall, precheckRecorderChunk } from "../../services/ingest/src/calls/intake.ts";
import { chunkObjectKey } from "../../services/ingest/src/calls/object-keys.ts";
import { receiveAudio } from "../../services/ingest/src/uploads/receive-audio.ts";

export interface UploadServerDeps {
  db: Db;
  commit: Commit;
  store: ObjectStore;
  probe: AudioProbe;
  maxUploadBytes: number;
  /** The upload is complete: enqueue the call's flow. */
  finished(tenantId: string, callId: string, audioVersion: number): Promise<void>;
}

export async function startUploadServer(deps: UploadServerDeps): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ bodyLimit: deps.maxUploadBytes });
  const keys = cachedApiKeyLookup(postgresApiKeyLookup(deps.db), 30_000);
  const tenants = new WeakMap<object, string>();
  app.addHook("onRequest", async (request, reply) => {
    const key = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    const principal = key ? await keys.findActive(hashApiKey(key)) : null;
    if (!principal) return reply.code(401).send({ error: { code: "unauthenticated" } });
    tenants.set(request, principal.tenantId);
  });
  const tenantOf = (request: object) => tenants.get(request)!;
  // Chunks are streamed to object storage as they arrive, as ingest does: no body parser buffers them.
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));

  app.post("/v1/calls/recorder", async (request, reply) => reply.code(201).send(await openRecorderCall(deps.commit, { tenantId: tenantOf(request) })));
  app.post<{ Params: { id: string }; Querystring: { index: string } }>("/v1/calls/:id/chunks", async (request, reply) => {
    const tenantId = tenantOf(request);
    const callId = request.params.id;
    const index = Number(request.query.index);
    const stored = await precheckRecorderChunk(deps.db, { tenantId, callId, index });
    if (stored) return reply.code(200).send(stored);
    const length = request.headers["content-length"];
    const audio = await receiveAudio(deps, {
      body: request.raw,
      declaredLength: length === undefined ? undefined : Number(length),
      maxBytes: deps.maxUploadBytes,
      keyFor: (format) => chunkObjectKey(tenantId, callId, 1, index, format),
    });
    const chunk = await addRecorderChunk(deps.commit, { tenantId, callId, index, audio });
    return reply.code(chunk.created ? 202 : 200).send(chunk);
  });
  app.post<{ Params: { id: string } }>("/v1/calls/:id/finish", async (request, reply) => {
    const tenantId = tenantOf(request);
    const finished = await finishRecorderUpload(deps.commit, { tenantId, callId: request.params.id });
    await deps.finished(tenantId, request.params.id, 1);
    return reply.code(202).send(finished);
  });

  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { url, close: () => app.close() };
}
