/**
 * How long each kind of non-terminal row may stay as it is (docs/design.md invariant 2), and what the
 * reaper does once it has not moved. Pure data plus the arithmetic on it: the sweeps and the admin
 * "stuck" view read their deadlines from here, so both agree on what "overdue" means.
 */

/** The stages whose rows the reaper re-drives: chunk rows for transcription, stage runs for the rest. */
export type ReapedStage = "transcription" | "merge" | "summary";

export interface StageDeadlines {
  /** A `queued` row nobody claimed for this long is re-driven (or failed). */
  readonly queuedMs: number;
  /** A `running` row whose heartbeat (or start) is older than this has lost its worker. */
  readonly heartbeatMs: number;
  /** A `running` row may run at most this long, plus `maxRunPerAudioSecondMs` for each second of audio. */
  readonly maxRunMs: number;
  readonly maxRunPerAudioSecondMs: number;
}

export type AbandonedUploadPolicy = "finish" | "fail";

export interface ReaperPolicy {
  readonly stages: Readonly<Record<ReapedStage, StageDeadlines>>;
  /** Re-drives allowed per entity within `redriveWindowMs`; the next overdue look fails it. */
  readonly maxRedrives: number;
  readonly redriveWindowMs: number;
  /** A finished upload whose chunks are all terminal, yet unsettled for this long, gets its ledger event again. */
  readonly unsettledMs: number;
  /** An outbox row unpublished this long escaped the relay's own sweeper (it republishes after ~3 s). */
  readonly outboxStaleMs: number;
  /**
   * An outbox row still unpublished this long after it was written, with failed publishes behind it,
   * is given up (`outbox.give_up`): JetStream keeps refusing it, and the sweeps that watch the
   * entity it was about re-drive or fail that entity in its place.
   */
  readonly outboxGiveUpMs: number;
  /** A dial in `placing` (or later) with no provider call id after this long never reached the provider. */
  readonly dialUnconfirmedMs: number;
  /** A recorder call idle (no new chunk) this long without `/finish`. */
  readonly abandonedUploadMs: number;
  readonly abandonedUploadPolicy: AbandonedUploadPolicy;
  /** An object no row references, older than this, is deleted. */
  readonly orphanObjectMs: number;
  /** Rows (or objects) looked at per sweep and kind, so one sweep stays a small query. */
  readonly batch: number;
}

const MINUTE = 60_000;

export const DEFAULT_POLICY: ReaperPolicy = Object.freeze({
  stages: Object.freeze({
    transcription: Object.freeze({ queuedMs: 10 * MINUTE, heartbeatMs: 3 * MINUTE, maxRunMs: 10 * MINUTE, maxRunPerAudioSecondMs: 2_000 }),
    merge: Object.freeze({ queuedMs: 10 * MINUTE, heartbeatMs: 3 * MINUTE, maxRunMs: 5 * MINUTE, maxRunPerAudioSecondMs: 500 }),
    summary: Object.freeze({ queuedMs: 10 * MINUTE, heartbeatMs: 3 * MINUTE, maxRunMs: 10 * MINUTE, maxRunPerAudioSecondMs: 0 }),
  }),
  maxRedrives: 3,
  redriveWindowMs: 6 * 60 * MINUTE,
  unsettledMs: 5 * MINUTE,
  outboxStaleMs: 60_000,
  outboxGiveUpMs: 60 * MINUTE,
  dialUnconfirmedMs: 60_000,
  abandonedUploadMs: 60 * MINUTE,
  abandonedUploadPolicy: "finish",
  orphanObjectMs: 24 * 60 * MINUTE,
  batch: 200,
});

/** The longest a running row of `stage` may take, its audio's length considered (work scales with it). */
export const maxRunMs = (deadlines: StageDeadlines, audioSeconds: number | null): number =>
  deadlines.maxRunMs + deadlines.maxRunPerAudioSecondMs * Math.max(0, audioSeconds ?? 0);

/**
 * Every deadline replaced by one age (the admin "stuck?olderThan=" view): "not moved for this long",
 * whatever the stage. Run-time limits keep their audio scaling off, so the answer is predictable.
 */
export const policyWithAge = (policy: ReaperPolicy, ageMs: number): ReaperPolicy => {
  const flat: StageDeadlines = { queuedMs: ageMs, heartbeatMs: ageMs, maxRunMs: ageMs, maxRunPerAudioSecondMs: 0 };
  return {
    ...policy,
    stages: { transcription: flat, merge: flat, summary: flat },
    unsettledMs: ageMs,
    outboxStaleMs: ageMs,
    dialUnconfirmedMs: ageMs,
    abandonedUploadMs: ageMs,
    orphanObjectMs: Math.max(ageMs, policy.orphanObjectMs),
  };
};

export const before = (now: Date, ms: number): Date => new Date(now.getTime() - ms);
