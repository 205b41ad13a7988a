import type { TransactionClient } from "./outbox.ts";

/**
 * Idempotent consumers (docs/design.md invariant 6). Both helpers run inside the transaction of the
 * effect, so "applied" and "recorded as applied" commit or roll back together.
 */

/**
 * Records that `consumer` applies `messageId`; false when it already has, so the caller skips the
 * effect. A concurrent claim of the same id waits for the first transaction: it gets false if that
 * one commits and true if it rolls back.
 */
export async function claimMessage(tx: TransactionClient, consumer: string, messageId: string): Promise<boolean> {
  const { count } = await tx.inboxEntry.createMany({ data: [{ consumer, messageId }], skipDuplicates: true });
  return count === 1;
}

/** A Prisma model delegate with a status column: `tx.chunk`, `tx.call`, `tx.dial` … */
export interface StatusModel {
  // Prisma declares updateMany generically; `any` lets every delegate fit, and the types below read
  // the real argument types back from it, so callers are still checked field by field.
  updateMany(args: any): PromiseLike<{ count: number }>;
}

type UpdateManyArgs<M extends StatusModel> = Parameters<M["updateMany"]>[0];
type WhereOf<M extends StatusModel> = NonNullable<UpdateManyArgs<M>["where"]>;
type DataOf<M extends StatusModel> = UpdateManyArgs<M>["data"];
/** The status values themselves (not Prisma's `{ set: … }` update operations). */
export type StatusOf<M extends StatusModel> = Extract<NonNullable<DataOf<M>["status"]>, string>;

/**
 * Moves one row from any of `from` to `data.status` (with the rest of `data`) only if it is still in
 * one of them; false when someone else moved it first, e.g. a redelivery of an event already applied.
 * `where` must select one row.
 *
 *   if (!(await casTransition(tx.chunk, { id }, ["queued", "running"], { status: "transcribed", text }))) return ack();
 */
export async function casTransition<M extends StatusModel>(
  model: M,
  where: WhereOf<M>,
  from: readonly StatusOf<M>[],
  data: DataOf<M> & { status: StatusOf<M> },
): Promise<boolean> {
  const { count } = await model.updateMany({ where: { ...where, status: { in: [...from] } }, data });
  return count === 1;
}
