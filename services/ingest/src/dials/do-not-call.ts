import type { Db } from "@callflow/db";
import { notFound } from "../http/api-error.ts";
import { pageOf, pageWindow, type PageRequest } from "../http/pages.ts";

/**
 * The tenant's do-not-call list. Every change is audited with the key that made it: whether a number
 * was listed when a dial was requested is a question someone will have to answer.
 */

interface Change {
  tenantId: string;
  /** E.164, normalised. */
  number: string;
  actor: string;
}

const entryView = (row: { number: string; createdAt: Date }) => ({ number: row.number, createdAt: row.createdAt.toISOString() });

/** Lists a number; listing it again changes nothing (`created` false). */
export const addToDoNotCall = (db: Db, change: Change) =>
  db.$transaction(async (tx) => {
    const { tenantId, number } = change;
    const { count } = await tx.doNotCall.createMany({ data: [{ tenantId, number }], skipDuplicates: true });
    const row = await tx.doNotCall.findUniqueOrThrow({ where: { tenantId_number: { tenantId, number } } });
    if (count === 1) {
      await tx.auditEntry.create({
        data: { actor: change.actor, action: "dnc.add", entityType: "do_not_call", entityId: number, tenantId, reason: "listed through the API", after: { number } },
      });
    }
    return { entry: entryView(row), created: count === 1 };
  });

export const removeFromDoNotCall = (db: Db, change: Change) =>
  db.$transaction(async (tx) => {
    const { tenantId, number } = change;
    const { count } = await tx.doNotCall.deleteMany({ where: { tenantId, number } });
    if (count === 0) throw notFound("do_not_call_entry", number);
    await tx.auditEntry.create({
      data: { actor: change.actor, action: "dnc.remove", entityType: "do_not_call", entityId: number, tenantId, reason: "removed through the API", before: { number } },
    });
  });

/** Newest first, in cursor pages. */
export const listDoNotCall = async (db: Db, tenantId: string, page: PageRequest) => {
  const window = pageWindow(page);
  return pageOf(await db.doNotCall.findMany({ ...window, where: { tenantId, ...window.where } }), page.limit, entryView);
};
