import { applyInTransaction, assertStillLocked, writeAudit, type ReaperAction } from "../actions.ts";
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
 * A row refused until `outboxGiveUpMs` after it was written is given up instead, so no row is
 * retried (and audited) forever; the sweeps over chunks, stages and calls deal with what it was about.
 */
export const republishStaleOutbox: Sweep<Candidate> = {
  name: "outbox",

  find: (run) =>
    run.db.$queryRaw<Candidate[]>`
      SELECT id::text AS id, subject, created_at AS "createdAt", attempts, last_error AS "lastError"
      FROM outbox WHERE published_at IS NULL AND failed_at IS NULL AND created_at <= ${before(run.now, run.policy.outboxStaleMs)}
      -- The rows that failed least go first: a few that can never publish cannot starve the rest.
      ORDER BY attempts, created_at LIMIT ${run.policy.batch}`,

  stuck: (c) => ({ stage: "outbox", entityType: "outbox", entityId: c.id, tenantId: null, callId: null, status: "unpublished", attempt: c.attempts, since: c.createdAt, reason: c.lastError ?? "unpublished" }),

  async reap(run, candidates) {
    if (candidates.length === 0) return [];
    const reasonOf = (c: Candidate) => `unpublished since ${c.createdAt.toISOString()} after ${c.attempts} failed publishes${c.lastError ? ` (last: ${c.lastError})` : ""}`;
    // A row never tried yet gets its publish first, however old it is.
    const giveUpBefore = before(run.now, run.policy.outboxGiveUpMs);
    const givingUp = (c: Candidate) => c.attempts > 0 && c.createdAt <= giveUpBefore;
    const givenUp = candidates.filter(givingUp);
    const actions: ReaperAction[] = [];
    for (const c of givenUp) {
      actions.push(
        await applyInTransaction(
          run,
          { kind: "outbox.give_up", entityType: "outbox", entityId: c.id, tenantId: null, reason: reasonOf(c), before: { subject: c.subject, attempts: c.attempts, lastError: c.lastError }, after: { failedAt: run.now } },
          async (tx) => {
            const { count } = await tx.outboxEvent.updateMany({ where: { id: c.id, publishedAt: null, failedAt: null, attempts: c.attempts }, data: { failedAt: run.now } });
            return count === 1;
          },
        ),
      );
    }
    const toPublish = candidates.filter((c) => !givingUp(c));
    if (toPublish.length === 0) return actions;
    const ids = toPublish.map((c) => c.id);
    assertStillLocked(run);
    if (!run.dryRun) await run.publishNow(ids);
    // publishNow marks only what it published; the rows say which those are.
    const after = run.dryRun
      ? new Map<string, { publishedAt: Date | null; lastError: string | null }>()
      : new Map((await run.db.outboxEvent.findMany({ where: { id: { in: ids } }, select: { id: true, publishedAt: true, lastError: true } })).map((row) => [row.id, row]));
    for (const c of toPublish) {
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
