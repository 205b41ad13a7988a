import { assertStillLocked, writeAudit, type ReaperAction } from "../actions.ts";
import { before } from "../policy.ts";
import type { Sweep } from "./sweep.ts";

interface Candidate {
  id: string;
  subject: string;
  createdAt: Date;
  attempts: number;
  lastError: string | null;
}

/**
 * Outbox rows still unpublished long after the relay's own sweeper (every worker runs one, ~3 s)
 * should have published them. The reaper does not publish on its own: it hands them to the relay's
 * `publishNow` (same Nats-Msg-Id, so JetStream drops a duplicate) and audits what came of each.
 */
export const republishStaleOutbox: Sweep<Candidate> = {
  name: "outbox",

  find: (run) =>
    run.db.$queryRaw<Candidate[]>`
      SELECT id::text AS id, subject, created_at AS "createdAt", attempts, last_error AS "lastError"
      FROM outbox WHERE published_at IS NULL AND created_at <= ${before(run.now, run.policy.outboxStaleMs)}
      -- The rows that failed least go first: a few that can never publish cannot starve the rest.
      ORDER BY attempts, created_at LIMIT ${run.policy.batch}`,

  stuck: (c) => ({ stage: "outbox", entityType: "outbox", entityId: c.id, tenantId: null, callId: null, status: "unpublished", attempt: c.attempts, since: c.createdAt, reason: c.lastError ?? "unpublished" }),

  async reap(run, candidates) {
    if (candidates.length === 0) return [];
    const reasonOf = (c: Candidate) => `unpublished since ${c.createdAt.toISOString()} after ${c.attempts} failed publishes${c.lastError ? ` (last: ${c.lastError})` : ""}`;
    const ids = candidates.map((c) => c.id);
    assertStillLocked(run);
    if (!run.dryRun) await run.publishNow(ids);
    // publishNow marks only what it published; the rows say which those are.
    const after = run.dryRun
      ? new Map<string, { publishedAt: Date | null; lastError: string | null }>()
      : new Map((await run.db.outboxEvent.findMany({ where: { id: { in: ids } }, select: { id: true, publishedAt: true, lastError: true } })).map((row) => [row.id, row]));
    const actions: ReaperAction[] = [];
    for (const c of candidates) {
      const state = after.get(c.id);
      const published = state?.publishedAt != null;
      const action: ReaperAction = {
        kind: run.dryRun || published ? "outbox.republish" : "outbox.republish_failed",
        entityType: "outbox",
        entityId: c.id,
        tenantId: null,
        reason: reasonOf(c),
        before: { subject: c.subject, attempts: c.attempts, lastError: c.lastError },
        after: run.dryRun ? null : { publishedAt: state?.publishedAt ?? null, lastError: state?.lastError ?? null },
        outcome: run.dryRun ? "dry_run" : published ? "applied" : "failed",
      };
      await writeAudit(run.db, run, action);
      actions.push(action);
    }
    return actions;
  },
};
