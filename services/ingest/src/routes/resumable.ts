import { z } from "zod";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db } from "@callflow/db";
import { notFound } from "../http/api-error.ts";
import { tenantOf } from "../http/auth.ts";
import type { ResumableUploads } from "../uploads/resumable.ts";

export const UPLOADS_PATH = "/v1/uploads";

/** The tus protocol at /v1/uploads, behind the same API keys; another tenant's upload is a 404. */
export const resumableRoutes =
  (deps: { db: Db; uploads: ResumableUploads }): FastifyPluginAsyncZod =>
  async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_request, _payload, done) => done(null));

    const handOver = async (request: FastifyRequest, reply: FastifyReply) => {
      reply.hijack();
      await deps.uploads.tus.handle(request.raw, reply.raw);
    };

    app.post(
      UPLOADS_PATH,
      {
        config: { openapiBody: { description: "tus 1.0.0 creation: send Upload-Length and Upload-Metadata (failurePolicy, metadata, redactPii: true|false); the Location is the upload, its id the call id", content: { "application/offset+octet-stream": { schema: { type: "string", format: "binary" } } } } },
        schema: { summary: "Create a resumable (tus) upload", tags: ["uploads"] },
      },
      async (request, reply) => {
        deps.uploads.bindTenant(request.raw, tenantOf(request));
        await handOver(request, reply);
      },
    );

    app.route({
      method: ["HEAD", "PATCH", "DELETE"],
      url: `${UPLOADS_PATH}/:id`,
      schema: { summary: "tus: offset (HEAD), append (PATCH) or terminate (DELETE) an upload", tags: ["uploads"], params: z.object({ id: z.string() }) },
      handler: async (request, reply) => {
        const tenantId = tenantOf(request);
        const { id } = request.params;
        deps.uploads.bindTenant(request.raw, tenantId);
        const owner = await deps.uploads.ownerOf(id);
        if (owner === undefined) {
          // Finished uploads are no longer staged: their offset is the call's size, so a client that
          // lost the last response and asks again learns it is done.
          const call = /^[0-9a-f-]{36}$/i.test(id)
            ? await deps.db.call.findFirst({ where: { id, tenantId, source: "resumable" }, select: { sizeBytes: true } })
            : null;
          if (call && request.method === "HEAD") {
            const size = String(call.sizeBytes ?? 0);
            return reply.code(200).headers({ "tus-resumable": "1.0.0", "upload-offset": size, "upload-length": size, "cache-control": "no-store", "callflow-call-id": id }).send();
          }
          throw notFound("upload", id);
        }
        if (owner !== tenantId) throw notFound("upload", id);
        await handOver(request, reply);
      },
    });

    app.options(`${UPLOADS_PATH}`, { config: { public: true }, schema: { hide: true } }, handOver);
    app.options(`${UPLOADS_PATH}/:id`, { config: { public: true }, schema: { hide: true } }, handOver);
  };
