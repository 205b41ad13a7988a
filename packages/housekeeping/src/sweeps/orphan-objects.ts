import { assertStillLocked, errorText, writeAudit, type ReaperAction } from "../actions.ts";
import { before } from "../policy.ts";
import type { Sweep } from "./sweep.ts";

interface Candidate {
  key: string;
  size: number;
  lastModified: Date;
  tenantId: string;
  callId: string;
}

/** Only keys the pipeline writes are ever candidates: `tenants/<tenant>/calls/<call>/v<version>/…`. */
const PIPELINE_KEY = /^tenants\/([0-9a-f-]{36})\/calls\/([0-9a-f-]{36})\/v\d+\/.+/i;

export const parsePipelineKey = (key: string): { tenantId: string; callId: string } | null => {
  const match = PIPELINE_KEY.exec(key);
  return match ? { tenantId: match[1]!.toLowerCase(), callId: match[2]!.toLowerCase() } : null;
};

/**
 * Objects no row references (a chunk's object_key, a merged recording's object_key), older than
 * the threshold: an upload whose transaction rolled back, a call deleted with its rows, a split
 * part whose commit lost. The age is the guard against an object whose row is about to commit.
 */
export const deleteOrphanObjects: Sweep<Candidate> = {
  name: "storage",

  async find(run) {
    if (!run.store) return [];
    const olderThan = before(run.now, run.policy.orphanObjectMs);
    const orphans: Candidate[] = [];
    let page: Candidate[] = [];
    // References are checked a page of old objects at a time and `batch` counts orphans, not old
    // objects: a bucket whose first `batch` old objects are all referenced (any bucket after a day)
    // must not hide every orphan listed after them.
    const keepOrphans = async () => {
      const keys = page.map((object) => object.key);
      const referenced = await run.db.$queryRaw<{ key: string }[]>`
        SELECT object_key AS key FROM chunks WHERE object_key = ANY(${keys}::text[])
        UNION SELECT object_key AS key FROM merged_recordings WHERE object_key = ANY(${keys}::text[])`;
      const used = new Set(referenced.map((row) => row.key));
      orphans.push(...page.filter((object) => !used.has(object.key)).slice(0, run.policy.batch - orphans.length));
      page = [];
    };
    for await (const object of run.store.list("tenants/")) {
      const owner = parsePipelineKey(object.key);
      if (!owner || object.lastModified > olderThan) continue;
      page.push({ key: object.key, size: object.size, lastModified: object.lastModified, ...owner });
      if (page.length >= run.policy.batch) await keepOrphans();
      if (orphans.length >= run.policy.batch) break;
    }
    if (page.length > 0) await keepOrphans();
    return orphans;
  },

  stuck: (c) => ({ stage: "storage", entityType: "object", entityId: c.key, tenantId: c.tenantId, callId: c.callId, status: "unreferenced", attempt: null, since: c.lastModified, reason: "orphan_object" }),

  async reap(run, candidates) {
    const actions: ReaperAction[] = [];
    for (const c of candidates) {
      assertStillLocked(run);
      const action: ReaperAction = {
        kind: "object.delete",
        entityType: "object",
        entityId: c.key,
        tenantId: c.tenantId,
        reason: `no chunk or merged recording references it; last modified ${c.lastModified.toISOString()}`,
        before: { size: c.size, lastModified: c.lastModified },
        after: null,
        outcome: run.dryRun ? "dry_run" : "applied",
      };
      if (!run.dryRun) {
        // Checked again right before the delete: a row written since the listing keeps the object.
        const still = await run.db.$queryRaw<{ n: number }[]>`
          SELECT (SELECT count(*) FROM chunks WHERE object_key = ${c.key}) + (SELECT count(*) FROM merged_recordings WHERE object_key = ${c.key}) AS n`;
        if (Number(still[0]?.n ?? 0) > 0) {
          actions.push({ ...action, outcome: "stale" });
          continue;
        }
        await run.beforeWrite?.({ entityType: "object", entityId: c.key, kind: action.kind });
        try {
          await run.store!.delete(c.key);
        } catch (error) {
          Object.assign(action, { kind: "object.delete_failed", outcome: "failed", after: { error: errorText(error) } });
        }
      }
      await writeAudit(run.db, run, action);
      actions.push(action);
    }
    return actions;
  },
};
