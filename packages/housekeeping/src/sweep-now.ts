import { randomUUID } from "node:crypto";
import type { Logger } from "@callflow/telemetry";
import { assertStillLocked, SweepTimeSpentError, type BeforeWriteHook, type ReaperAction, type SweepPorts, type SweepRun } from "./actions.ts";
import { REAPED_STAGES, type ReaperMetrics } from "./metrics.ts";
import { DEFAULT_POLICY, policyWithAge, type ReaperPolicy } from "./policy.ts";
import { allSweeps, type StuckEntity } from "./sweeps/index.ts";

export interface SweepOptions {
  dryRun?: boolean;
  /** The sweep's clock; default the wall clock. Tests move it instead of waiting. */
  now?: Date;
  actor?: string;
  beforeWrite?: BeforeWriteHook;
}

export interface SweepResult {
  sweepId: string;
  dryRun: boolean;
  /** True when another replica held the sweep lock: this one did nothing. */
  skipped: boolean;
  startedAt: Date;
  durationMs: number;
  actions: ReaperAction[];
  /** Errors of sweeps that failed; the other sweeps still ran. */
  errors: { sweep: string; error: string }[];
}

export interface SweeperDeps extends SweepPorts {
  policy?: ReaperPolicy;
  logger?: Pick<Logger, "warn" | "info" | "error">;
  metrics?: ReaperMetrics;
  /** The sweep lock is held at most this long; default 120 s. */
  sweepTimeoutMs?: number;
}

/** One key for every reaper and every admin sweep: replicas take turns, they never sweep together. */
const SWEEP_LOCK = "callflow.reaper.sweep";

/**
 * One sweep: every kind of overdue entity, found and compare-and-set one by one. The sweep runs
 * while a transaction holds `pg_try_advisory_xact_lock`, so of several replicas (and the admin
 * endpoint) one sweeps and the others skip; the per-row compare-and-set is what makes each action
 * safe against the workers, and would make it safe between replicas without the lock too.
 */
export async function sweepNow(deps: SweeperDeps, options: SweepOptions = {}): Promise<SweepResult> {
  const policy = deps.policy ?? DEFAULT_POLICY;
  const startedAt = new Date();
  const run: SweepRun = {
    db: deps.db,
    commit: deps.commit,
    publishNow: deps.publishNow,
    store: deps.store,
    policy,
    now: options.now ?? startedAt,
    sweepId: randomUUID(),
    dryRun: options.dryRun ?? false,
    actor: options.actor ?? "reaper",
    beforeWrite: options.beforeWrite,
    // A fifth of the lock's time is kept back, so the last action commits before the lock can go.
    actUntil: startedAt.getTime() + Math.floor((deps.sweepTimeoutMs ?? 120_000) * 0.8),
  };
  const result: SweepResult = { sweepId: run.sweepId, dryRun: run.dryRun, skipped: false, startedAt, durationMs: 0, actions: [], errors: [] };
  const stuckByStage = new Map<string, number>();

  const sweepAll = async () => {
    for (const sweep of allSweeps) {
      try {
        assertStillLocked(run);
        const candidates = await sweep.find(run);
        for (const candidate of candidates) {
          const { stage } = sweep.stuck(candidate);
          stuckByStage.set(stage, (stuckByStage.get(stage) ?? 0) + 1);
        }
        if (candidates.length > 0) result.actions.push(...(await sweep.reap(run, candidates)));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        result.errors.push({ sweep: sweep.name, error: message });
        if (error instanceof SweepTimeSpentError) {
          deps.logger?.warn({ sweep: sweep.name, sweepId: run.sweepId }, message);
          break;
        }
        deps.logger?.error({ err: error, sweep: sweep.name, sweepId: run.sweepId }, "reaper sweep failed; the next sweep tries again");
      }
    }
  };

  // The lock lives as long as this transaction; the work itself commits on other connections.
  const locked = await deps.db.$transaction(
    async (tx) => {
      const [row] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(hashtext(${SWEEP_LOCK})) AS locked`;
      if (!row?.locked) return false;
      await sweepAll();
      return true;
    },
    { timeout: deps.sweepTimeoutMs ?? 120_000, maxWait: 10_000 },
  );
  result.skipped = !locked;
  result.durationMs = Date.now() - startedAt.getTime();

  if (deps.metrics) {
    const { metrics } = deps;
    metrics.sweepDuration.observe({ result: locked ? (result.errors.length > 0 ? "error" : "ok") : "skipped" }, result.durationMs / 1000);
    if (locked) {
      if (result.errors.length === 0) metrics.lastSweep.set(Date.now() / 1000);
      for (const stage of REAPED_STAGES) metrics.stuck.set({ stage }, stuckByStage.get(stage) ?? 0);
      for (const action of result.actions) metrics.actions.inc({ kind: action.kind, outcome: action.outcome });
      const [dead] = await deps.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM dead_letters WHERE replayed_at IS NULL`;
      metrics.deadLetters.set(dead?.n ?? 0);
    }
  }
  if (result.actions.length > 0 || result.errors.length > 0) {
    deps.logger?.info({ sweepId: run.sweepId, dryRun: run.dryRun, actions: result.actions.length, errors: result.errors.length }, "reaper sweep acted");
  }
  return result;
}

/**
 * What is past its deadline now, without acting: the admin "stuck" view. `olderThanMs` replaces
 * every deadline with one age; `stage` keeps one stage (transcription, merge, summary, upload, dial,
 * outbox, storage).
 */
export async function findStuck(
  deps: Omit<SweeperDeps, "metrics" | "logger">,
  query: { stage?: string | undefined; olderThanMs?: number | undefined; now?: Date } = {},
): Promise<StuckEntity[]> {
  const base = deps.policy ?? DEFAULT_POLICY;
  const policy = query.olderThanMs === undefined ? base : policyWithAge(base, query.olderThanMs);
  const run: SweepRun = { ...deps, policy, now: query.now ?? new Date(), sweepId: "stuck-view", dryRun: true, actor: "stuck-view" };
  const stuck: StuckEntity[] = [];
  for (const sweep of allSweeps) {
    // Listing a bucket is not a small query: the storage view is only given when asked for.
    if (sweep.name === "storage" && query.stage !== "storage") continue;
    for (const candidate of await sweep.find(run)) {
      const entity = sweep.stuck(candidate);
      if (!query.stage || entity.stage === query.stage) stuck.push(entity);
    }
  }
  return stuck;
}
