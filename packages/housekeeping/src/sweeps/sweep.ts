import type { ReaperAction, SweepRun } from "../actions.ts";

/** An entity past its deadline, as the admin "stuck" view and the stuck gauge show it. */
export interface StuckEntity {
  /** transcription, merge, summary, upload, dial, outbox, storage. */
  stage: string;
  entityType: string;
  entityId: string;
  tenantId: string | null;
  callId: string | null;
  status: string;
  attempt: number | null;
  since: Date;
  reason: string;
}

/**
 * One kind of overdue entity: a small query (`find`) and the compare-and-set per candidate (`reap`).
 * `find` never writes, so the stuck view and dry runs share it.
 */
export interface Sweep<C> {
  readonly name: string;
  find(run: SweepRun): Promise<C[]>;
  stuck(candidate: C): StuckEntity;
  reap(run: SweepRun, candidates: C[]): Promise<ReaperAction[]>;
}

/** Erases a sweep's candidate type so sweeps of different kinds fit in one list. */
export type AnySweep = Sweep<never> & { find(run: SweepRun): Promise<unknown[]>; stuck(candidate: unknown): StuckEntity; reap(run: SweepRun, candidates: unknown[]): Promise<ReaperAction[]> };
export const anySweep = <C>(sweep: Sweep<C>): AnySweep => sweep as unknown as AnySweep;

/** The stuck view of an overdue stage row (a chunk or a stage run): what the sweep read, and why it is late. */
export const overdueStuck = (
  stage: string,
  entityType: string,
  c: { id: string; tenantId: string; callId: string; status: string; attempt: number; overdue: { since: Date; reason: string } },
): StuckEntity => ({
  stage,
  entityType,
  entityId: c.id,
  tenantId: c.tenantId,
  callId: c.callId,
  status: c.status,
  attempt: c.attempt,
  since: c.overdue.since,
  reason: c.overdue.reason,
});
