import type { ServerResponse } from "node:http";
import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db } from "@callflow/db";
import { progressEvents, snapshotCall, TERMINAL_CALL, type CallSnapshot } from "../calls/progress.ts";
import { errorResponses, notFound } from "../http/api-error.ts";
import { tenantOf } from "../http/auth.ts";
import { callIdOf } from "./route-deps.ts";

const HEARTBEAT_MS = 15_000;

/** GET /v1/calls/{id}/events: server-sent events of every stage transition until the call is terminal. */
export const progressRoutes =
  (deps: { db: Db; pollMs: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const open = new Set<ServerResponse>();
    // Streams are never idle, so closing the server would wait for them: end them first.
    app.addHook("preClose", async () => {
      for (const stream of open) stream.end();
    });

    app.get(
      "/v1/calls/:id/events",
      {
        schema: {
          summary: "Server-sent events: `call` (with its `phase` and `phases`), `phase` when the phase changes, `stage` and `chunks` on every change, `end` once the call is completed or failed",
          tags: ["calls"],
          params: z.object({ id: z.string() }),
          produces: ["text/event-stream"],
          response: { 200: z.string().describe("text/event-stream"), ...errorResponses(401, 404, 429) },
        },
      },
      async (request, reply) => {
        const tenantId = tenantOf(request);
        const callId = callIdOf(request.params);
        let previous: CallSnapshot | undefined = (await snapshotCall(deps.db, tenantId, callId)) ?? undefined;
        if (!previous) throw notFound("call", callId);

        reply.hijack();
        const stream = reply.raw;
        stream.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" });
        open.add(stream);
        let sequence = 0;
        let closed = false;
        let timer: NodeJS.Timeout | undefined;
        let lastWrite = Date.now();
        const write = (text: string) => {
          lastWrite = Date.now();
          stream.write(text);
        };
        const send = (event: string, data: unknown) => write(`id: ${++sequence}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        const finish = () => {
          if (closed) return;
          closed = true;
          clearTimeout(timer);
          open.delete(stream);
          stream.end();
        };
        request.raw.once("close", finish);
        stream.once("close", finish);

        write(`retry: ${Math.max(deps.pollMs, 1000)}\n\n`);
        for (const event of progressEvents(undefined, previous)) send(event.event, event.data);

        const poll = async () => {
          if (closed) return;
          if (TERMINAL_CALL.has(previous!.call.status)) {
            send("end", { status: previous!.call.status });
            finish();
            return;
          }
          try {
            const next = await snapshotCall(deps.db, tenantId, callId);
            if (closed) return;
            if (!next) {
              send("end", { status: "deleted" });
              finish();
              return;
            }
            for (const event of progressEvents(previous, next)) send(event.event, event.data);
            previous = next;
            if (Date.now() - lastWrite > HEARTBEAT_MS) write(": keep-alive\n\n");
          } catch (error) {
            request.log.warn({ err: error, callId }, "progress poll failed; retrying");
          }
          timer = setTimeout(() => void poll(), deps.pollMs);
        };
        timer = setTimeout(() => void poll(), TERMINAL_CALL.has(previous.call.status) ? 0 : deps.pollMs);
      },
    );
  };
