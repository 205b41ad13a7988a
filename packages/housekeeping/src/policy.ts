/**
 * How long each kind of non-terminal row may stay as it is (docs/design.md invariant 2), and what the
 * reaper does once it has not moved. Pure data plus the arithmetic on it: the sweeps and the admin
 * "stuck" view read their deadlines from here, so both agree on what "overdue" means.
 */

/** The stages whose rows the reaper re-drives: chunk rows for transcription, stage runs for the rest. */
export type ReapedStage = "transcription" | "merge" | "summary";

export interface StageDeadlines {
  /** The pickup deadline: a `queued` row nobody claimed for this long is re-driven (or failed). */
  readonly queuedMs: number;
  /** A `running` row whose heartbeat (or start) is older than this has lost its worker. */
  readonly heartbeatMs: number;
  /**
   * A `running` row may run at most this long, plus `maxRunPerAudioSecondMs` for each second of
   * audio (the provider's real-time factor, in ms of work per second of audio), never past `maxRunCapMs`.
   */
  readonly maxRunMs: number;
  readonly maxRunPerAudioSecondMs: number;
  readonly maxRunCapMs: number;
}

export type AbandonedUploadPolicy = "finish" | "fail";

export interface ReaperPolicy {
  readonly stages: Readonly<Record<ReapedStage, StageDeadlines>>;
  /** Re-drives allowed per entity within its re-drive window; the next overdue look fails it. */
  readonly maxRedrives: number;
  /**
   * The shortest window re-drives are counted in. A row whose attempts can take longer (long audio)
   * gets a wider one (`redriveWindowFor`), so a worker that dies late in every attempt is still bounded.
   */
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
  /**
   * A placed call's recording fetch (`recording_fetches`): queued this long with no worker taking it, or
   * running this long since its last heartbeat (the dialer's worker died), it is re-driven.
   */
  readonly recordingFetch: { readonly queuedMs: number; readonly heartbeatMs: number };
  /** A recorder call idle (no new chunk) this long without `/finish`. */
  readonly abandonedUploadMs: number;
  readonly abandonedUploadPolicy: AbandonedUploadPolicy;
  /** An object no row references, older than this, is deleted. */
  readonly orphanObjectMs: number;
  /** Rows (or objects) looked at per sweep and kind, so one sweep stays a small query. */
  readonly batch: number;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/*
 * With the reaper's 30 s sweep interval a deadline is seen at most 30 s late, so an unclaimed row
 * fails after at most (1 + maxRedrives) × (queuedMs + 30 s) = 3 × 2.5 min = 7.5 min (3 attempts, as the
 * recording-queue incident asked, within 10 minutes); a worker that
 * dies mid-work (workers beat every 10 s) is re-driven within heartbeatMs + 30 s = 2 min.
 * The per-audio-second factors are generous real-time factors: 0.5 for a transcription provider,
 * 0.1 for ffmpeg's merge and for the summary's model, whose input grows with the transcript.
 */
export const DEFAULT_POLICY: ReaperPolicy = Object.freeze({
  stages: Object.freeze({
    transcription: Object.freeze({ queuedMs: 2 * MINUTE, heartbeatMs: 90 * SECOND, maxRunMs: 2 * MINUTE, maxRunPerAudioSecondMs: 500, maxRunCapMs: 40 * MINUTE }),
    merge: Object.freeze({ queuedMs: 2 * MINUTE, heartbeatMs: 90 * SECOND, maxRunMs: 2 * MINUTE, maxRunPerAudioSecondMs: 100, maxRunCapMs: 20 * MINUTE }),
    summary: Object.freeze({ queuedMs: 2 * MINUTE, heartbeatMs: 90 * SECOND, maxRunMs: 3 * MINUTE, maxRunPerAudioSecondMs: 100, maxRunCapMs: 20 * MINUTE }),
  }),
  maxRedrives: 2,
  redriveWindowMs: 15 * MINUTE,
  unsettledMs: 2 * MINUTE,
  outboxStaleMs: 60_000,
  outboxGiveUpMs: 60 * MINUTE,
  dialUnconfirmedMs: 60_000,
  recordingFetch: Object.freeze({ queuedMs: 2 * MINUTE, heartbeatMs: 90 * SECOND }),
  abandonedUploadMs: 60 * MINUTE,
  abandonedUploadPolicy: "finish",
  orphanObjectMs: 24 * 60 * MINUTE,
  batch: 200,
});

/** The longest a running row may take: a base, plus the audio's length times the real-time factor, capped. */
export const maxRunMs = (deadlines: StageDeadlines, audioSeconds: number | null): number =>
  Math.min(deadlines.maxRunCapMs, deadlines.maxRunMs + deadlines.maxRunPerAudioSecondMs * Math.max(0, audioSeconds ?? 0));

/** The longest one attempt can hold a row before the reaper looks: unclaimed, or run to its limit and then silent. */
export const attemptSpanMs = (deadlines: StageDeadlines, audioSeconds: number | null): number =>
  Math.max(deadlines.queuedMs, maxRunMs(deadlines, audioSeconds) + deadlines.heartbeatMs);

/**
 * The window re-drives of one row are counted in: the configured one, widened to hold every attempt
 * of the budget when the row's attempts can be long. Re-drives at most one span (plus a sweep
 * interval) apart then always fall in one window, so the budget bounds the row.
 */
export const redriveWindowFor = (policy: ReaperPolicy, deadlines: StageDeadlines, audioSeconds: number | null): number =>
  Math.max(policy.redriveWindowMs, (1 + policy.maxRedrives) * attemptSpanMs(deadlines, audioSeconds));

/** The window of the ledger's re-drives (`unsettled-transcriptions.ts`): each look waits `unsettledMs` after the last. */
export const ledgerRedriveWindowMs = (policy: ReaperPolicy): number => Math.max(policy.redriveWindowMs, (1 + policy.maxRedrives) * policy.unsettledMs);

/** The attempts a row gets: the first and its re-drives. */
export const maxAttempts = (policy: Pick<ReaperPolicy, "maxRedrives">): number => 1 + policy.maxRedrives;

/**
 * Every deadline replaced by one age (the admin "stuck?olderThan=" view): "not moved for this long",
 * whatever the stage. Run-time limits keep their audio scaling off, so the answer is predictable.
 */
export const policyWithAge = (policy: ReaperPolicy, ageMs: number): ReaperPolicy => {
  const flat: StageDeadlines = { queuedMs: ageMs, heartbeatMs: ageMs, maxRunMs: ageMs, maxRunPerAudioSecondMs: 0, maxRunCapMs: ageMs };
  return {
    ...policy,
    stages: { transcription: flat, merge: flat, summary: flat },
    unsettledMs: ageMs,
    outboxStaleMs: ageMs,
    dialUnconfirmedMs: ageMs,
    recordingFetch: { queuedMs: ageMs, heartbeatMs: ageMs },
    abandonedUploadMs: ageMs,
    orphanObjectMs: Math.max(ageMs, policy.orphanObjectMs),
  };
};

export const before = (now: Date, ms: number): Date => new Date(now.getTime() - ms);
