import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { eventAsJson, type Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { DeadLetterNotFoundError, DeadLetterNotReplayableError, replayDeadLetter, type OutboxPublisher, type OutboxRelay } from "@callflow/messaging";
import { findStuck, sweepNow, type ReaperPolicy } from "@callflow/housekeeping";
import type { ObjectStore } from "@callflow/storage";
import type { Logger } from "@callflow/telemetry";
import type { Commit } from "../calls/commit.ts";
import { ADMIN_SCOPE } from "../auth/api-keys.ts";
import { ApiError, errorResponses } from "../http/api-error.ts";
import { iso } from "../calls/views.ts";

/** Operator endpoints (the `admin` scope): they look across tenants, so no tenant key has them by default. */
const stuckItem = z.object({
  stage: z.string(),
  entityType: z.string(),
  entityId: z.string(),
  tenantId: z.string().nullable(),
  callId: z.string().nullable(),
  status: z.string(),
  attempt: z.number().int().nullable(),
  since: z.string(),
  reason: z.string(),
});

const reaperAction = z.object({
  kind: z.string(),
  entityType: z.string(),
  entityId: z.string(),
  tenantId: z.string().nullable(),
  reason: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  outcome: z.enum(["applied", "dry_run", "stale", "failed"]),
});

export interface AdminRouteDeps {
  db: Db;
  /** Names the event of a dead letter's subject, to show its payload as JSON. */
  topology: Pick<Topology, "eventForSubject">;
  publisher: OutboxPublisher;
  /** The process's relay: the reaper's sweep republishes stale outbox rows through its publishNow. */
  relay: Pick<OutboxRelay, "publishNow">;
  /** The reaper's sweep runs here on an operator's request: same lock, same audit log. */
  commit: Commit;
  store: ObjectStore;
  logger: Logger;
  /** The reaper's deadlines; default its defaults (DEFAULT_POLICY). */
  reaperPolicy?: ReaperPolicy | undefined;
}

/** A dead letter's message for people: its event decoded as JSON where it decodes, and its bytes. */
const payloadOf = (topology: AdminRouteDeps["topology"], subject: string, bytes: Uint8Array) => {
  const event = topology.eventForSubject(subject) ?? null;
  let payload: unknown = null;
  if (event) {
    try {
      payload = eventAsJson(event, bytes);
    } catch {
      // Undecodable is one of the reasons a message is dead-lettered: its bytes are still shown.
    }
  }
  return { event, payload, payloadBase64: Buffer.from(bytes).toString("base64") };
};

/** Operator endpoints (the `admin` scope): they look across tenants, so no tenant key has them by default. */
export const adminRoutes =
  (deps: AdminRouteDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const config = { scope: ADMIN_SCOPE };
    const sweeper = {
      db: deps.db,
      commit: deps.commit,
      publishNow: (ids: readonly string[]) => deps.relay.publishNow(ids),
      store: deps.store,
      ...(deps.reaperPolicy ? { policy: deps.reaperPolicy } : {}),
      logger: deps.logger,
    };

    app.get(
      "/v1/admin/stuck",
      {
        config,
        schema: {
          summary: "Entities past their deadline (what the reaper's next sweep would act on)",
          tags: ["admin"],
          querystring: z.object({
            stage: z.enum(["transcription", "merge", "summary", "upload", "dial", "outbox", "storage"]).optional(),
            olderThan: z.coerce.number().int().min(0).optional().describe("Seconds without progress; default: each stage's own deadline"),
          }),
          response: { 200: z.object({ items: z.array(stuckItem) }), ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => {
        const { stage, olderThan } = request.query;
        const items = await findStuck(sweeper, { stage, olderThanMs: olderThan === undefined ? undefined : olderThan * 1000 });
        return { items: items.map((item) => ({ ...item, since: item.since.toISOString() })) };
      },
    );

    app.post(
      "/v1/admin/reaper/sweep",
      {
        config,
        schema: {
          summary: "Run one reaper sweep now and return its actions (dryRun: report only)",
          tags: ["admin"],
          body: z.object({ dryRun: z.boolean().optional() }).nullish(),
          response: {
            200: z.object({ sweepId: z.string(), dryRun: z.boolean(), durationMs: z.number(), actions: z.array(reaperAction), errors: z.array(z.object({ sweep: z.string(), error: z.string() })) }),
            ...errorResponses(400, 401, 403, 409),
          },
        },
      },
      async (request) => {
        const result = await sweepNow(sweeper, { dryRun: request.body?.dryRun ?? false, actor: `admin:${request.principal?.keyId ?? "unknown"}` });
        if (result.skipped) throw new ApiError(409, "sweep_in_progress", "another reaper is sweeping right now; its actions are in the audit log");
        return { sweepId: result.sweepId, dryRun: result.dryRun, durationMs: result.durationMs, actions: result.actions, errors: result.errors };
      },
    );

    app.get(
      "/v1/admin/audit",
      {
        config,
        schema: {
          summary: "What the reaper and operators did, newest first",
          tags: ["admin"],
          querystring: z.object({ entityId: z.string().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  id: z.string(), at: z.string(), actor: z.string(), action: z.string(), entityType: z.string(), entityId: z.string(), tenantId: z.string().nullable(), reason: z.string(), before: z.unknown(), after: z.unknown(),
                  // A dry run's entry says what would have been done: without the flag it reads as done.
                  dryRun: z.boolean(),
                  sweepId: z.string().nullable(),
                }),
              ),
            }),
            ...errorResponses(401, 403),
          },
        },
      },
      async (request) => {
        const rows = await deps.db.auditEntry.findMany({
          where: request.query.entityId ? { entityId: request.query.entityId } : {},
          orderBy: { at: "desc" },
          take: request.query.limit,
        });
        return { items: rows.map((row) => ({ ...row, at: row.at.toISOString() })) };
      },
    );

    app.get(
      "/v1/admin/dead-letters",
      {
        config,
        schema: {
          summary: "Messages no consumer could process, with their error, newest first",
          tags: ["admin"],
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  id: z.string(),
                  stream: z.string(),
                  consumer: z.string(),
                  subject: z.string(),
                  streamSequence: z.number(),
                  deliveryCount: z.number().int(),
                  reason: z.string(),
                  error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
                  entityType: z.string().nullable(),
                  entityId: z.string().nullable(),
                  tenantId: z.string().nullable(),
                  createdAt: z.string(),
                  replayCount: z.number().int(),
                  replayedAt: z.string().nullable(),
                  event: z.string().nullable().describe("The event the subject carries, e.g. callTranscribed"),
                  payload: z.unknown().describe("The original message as JSON; null when it does not decode as its event"),
                  payloadBase64: z.string().describe("The original message's bytes"),
                  headers: z.record(z.string(), z.unknown()).describe("The original message's headers"),
                }),
              ),
            }),
            ...errorResponses(401, 403),
          },
        },
      },
      async (request) => {
        const rows = await deps.db.deadLetter.findMany({ orderBy: { createdAt: "desc" }, take: request.query.limit });
        return {
          items: rows.map((row) => ({
            id: row.id,
            stream: row.stream,
            consumer: row.consumer,
            subject: row.subject,
            streamSequence: Number(row.streamSequence),
            deliveryCount: row.deliveryCount,
            reason: row.reason,
            error: row.errorCode ? { code: row.errorCode, message: row.errorMessage } : null,
            entityType: row.entityType,
            entityId: row.entityId,
            tenantId: row.tenantId,
            createdAt: row.createdAt.toISOString(),
            replayCount: row.replayCount,
            replayedAt: iso(row.replayedAt),
            ...payloadOf(deps.topology, row.subject, row.payload),
            headers: (row.headers ?? {}) as Record<string, unknown>,
          })),
        };
      },
    );

    app.post(
      "/v1/admin/dead-letters/:id/replay",
      {
        config,
        schema: {
          summary: "Publish a dead letter's original message again",
          tags: ["admin"],
          params: z.object({ id: z.string() }),
          response: { 202: z.object({ streamSequence: z.number() }), ...errorResponses(401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        try {
          const streamSequence = await replayDeadLetter(deps, request.params.id);
          return reply.code(202).send({ streamSequence });
        } catch (error) {
          if (error instanceof DeadLetterNotFoundError) throw new ApiError(404, "dead_letter_not_found", error.message);
          if (error instanceof DeadLetterNotReplayableError) throw new ApiError(409, "dead_letter_not_replayable", error.message);
          throw error;
        }
      },
    );
  };
