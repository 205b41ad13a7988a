import type { DialStatus } from "./generated/prisma/client.ts";

/**
 * A dial in one of these is active and holds its dedup key: the partial unique index
 * `dials_active_dedup_key` (migration 20261210000000_dials_api) lists the same statuses.
 */
export const ACTIVE_DIAL_STATUSES = ["queued", "scheduled", "placing", "placed", "ringing", "in_progress"] as const satisfies readonly DialStatus[];

/** Final: the dial is over and frees its dedup key. */
export const FINISHED_DIAL_STATUSES = ["completed", "no_answer", "busy", "failed", "canceled"] as const satisfies readonly DialStatus[];
