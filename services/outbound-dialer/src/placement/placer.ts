import type { Clock } from "@callflow/messaging";
import { PermanentTelephonyError, RetryableTelephonyError, type Telephony } from "@callflow/telephony";
import type { Logger } from "@callflow/telemetry";
import type { DialerMetrics } from "../metrics.ts";
import { AccountBreakerOpen, PROVIDER_BREAKER_OPEN, type AccountBreaker } from "./account-breaker.ts";
import type { ClaimedDial, DialQueue } from "./dial-queue.ts";

export interface PlacerOptions {
  queue: DialQueue;
  telephony: Pick<Telephony, "placeCall" | "findCallByMarker" | "hangUp">;
  callbacks: { statusCallbackUrl: string; recordingStatusCallbackUrl: string };
  clock: Clock;
  logger: Logger;
  metrics: DialerMetrics;
  /** Placements in flight in this replica. */
  lanes: number;
  /** How often a placement in flight refreshes its dial's `heartbeat_at`. */
  heartbeatMs: number;
  idlePollMs: number;
  retries: { baseMs: number; maxPlacementRetries: number };
  /** The provider account's breaker: every carrier request goes through it. */
  breaker: AccountBreaker;
}

export interface Placer {
  /** A dial may be due: look now rather than at the next poll. */
  wake(): void;
  /** Finishes the placements in flight, then returns. */
  stop(): Promise<void>;
}

/** Failures that back off and count towards `provider_unreachable`. */
const BACKOFF_CODES = ["telephony_unavailable", "telephony_timeout", "telephony_unreachable", "telephony_marker_pending", PROVIDER_BREAKER_OPEN] as const;
/** No answer about the call: it may exist, so the attempt is looked up, never simply placed again. */
const UNCERTAIN_CODES: ReadonlySet<string> = new Set(["telephony_timeout", "telephony_unreachable", "telephony_marker_pending"]);
const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * The placer: lanes that each claim the next due dial from Postgres (paced, by priority with aging),
 * place it and commit the outcome. Events only wake it; a poll finds scheduled dials coming due.
 */
export function startPlacer(options: PlacerOptions): Placer {
  const { queue, telephony, clock, logger, metrics } = options;
  let running = true;
  const sleepers = new Set<() => void>();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });
  const wake = () => {
    for (const sleeper of [...sleepers]) sleeper();
  };

  const settleFailure = async (dial: ClaimedDial, error: unknown): Promise<string> => {
    const now = clock.now().getTime();
    if (error instanceof PermanentTelephonyError) {
      await queue.fail(dial, error.code, error.message);
      return "failed";
    }
    if (error instanceof RetryableTelephonyError && error.code === "telephony_rate_limited") {
      await queue.requeue(dial, new Date(now + (error.retryAfterMs ?? options.retries.baseMs)), error.code, error.message);
      return "requeued";
    }
    const breakerOpen = error instanceof AccountBreakerOpen;
    const carrierCode = error instanceof RetryableTelephonyError ? error.code : "telephony_unreachable";
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof RetryableTelephonyError) && !breakerOpen) logger.error({ err: error, dialId: dial.id }, "placing a dial failed unexpectedly; the attempt will be looked up");
    const tries = (await queue.retriesSoFar(dial.id, BACKOFF_CODES)) + 1;
    if (tries > options.retries.maxPlacementRetries) {
      await queue.fail(dial, "provider_unreachable", `the carrier did not accept the call after ${tries} tries; last: ${message}`);
      return "failed";
    }
    // An adopted attempt the breaker kept from looking up may still have a call: it is rechecked, never requeued.
    const uncertain = breakerOpen ? dial.adopted : UNCERTAIN_CODES.has(carrierCode);
    // Open (now, or by this failure): the dial waits for the half-open time, when one trial goes through.
    const openUntil = breakerOpen ? error.halfOpenAt : options.breaker.openUntil();
    const code = breakerOpen || (openUntil && !uncertain) ? PROVIDER_BREAKER_OPEN : carrierCode;
    // Met half-open with its one trial in flight, the half-open time has passed: a short wait, not a spin.
    const backoff = breakerOpen ? now + options.retries.baseMs : now + Math.min(MAX_BACKOFF_MS, options.retries.baseMs * 2 ** (tries - 1));
    const at = new Date(Math.max(openUntil?.getTime() ?? 0, backoff));
    if (uncertain) {
      await queue.recheckLater(dial, at, code, message);
      return "rechecked";
    }
    await queue.requeue(dial, at, code, message);
    return "requeued";
  };

  /** The attempt's call: one a dead dialer placed, found by its marker (fencing), or one placed now. */
  const callFor = async (dial: ClaimedDial) => {
    const marker = { dialId: dial.id, attempt: dial.attempt };
    const earlier = dial.adopted ? await options.breaker.execute(() => telephony.findCallByMarker({ marker, to: dial.toNumber, notBefore: dial.startedAt })) : undefined;
    return earlier ?? (await options.breaker.execute(() => telephony.placeCall({ marker, to: dial.toNumber, from: dial.fromNumber ?? undefined, ...options.callbacks })));
  };

  /** Keeps the dial's heartbeat fresh while `work` waits on the carrier; the last beat lands before the outcome is written. */
  const withHeartbeat = async <T>(dial: ClaimedDial, work: () => Promise<T>): Promise<T> => {
    let last: Promise<unknown> = Promise.resolve();
    const beat = setInterval(() => {
      last = queue.heartbeat(dial).catch((error: unknown) => logger.warn({ err: error, dialId: dial.id }, "could not refresh a placing dial's heartbeat"));
    }, options.heartbeatMs);
    try {
      return await work();
    } finally {
      clearInterval(beat);
      await last;
    }
  };

  const place = async (dial: ClaimedDial) => {
    let outcome: string;
    try {
      const call = await withHeartbeat(dial, () => callFor(dial));
      const placed = await queue.markPlaced(dial, call.providerCallId);
      outcome = placed ? "placed" : "superseded";
      if (placed) metrics.achieved.record(clock.now().getTime());
      if (placed) metrics.placementLatency.observe(Math.max(0, clock.now().getTime() - dial.createdAt.getTime()) / 1000);
      else {
        // Canceled while the carrier took the call: nobody wants it, so it is ended there.
        logger.warn({ dialId: dial.id, providerCallId: call.providerCallId }, "the dial moved on while its call was placed (canceled?); hanging the call up");
        await telephony.hangUp(call.providerCallId).catch((error: unknown) => logger.warn({ err: error, dialId: dial.id, providerCallId: call.providerCallId }, "hanging up a superseded call failed; it ends on its own"));
      }
    } catch (error) {
      outcome = await settleFailure(dial, error);
    }
    metrics.placements.inc({ outcome });
  };

  let backlogAt = 0;
  const refreshBacklog = async () => {
    if (Date.now() - backlogAt < options.idlePollMs) return;
    backlogAt = Date.now();
    const backlog = await queue.backlog();
    for (const [priority, count] of Object.entries(backlog)) metrics.backlog.set({ priority }, count);
  };

  const lane = async () => {
    while (running) {
      try {
        // The account is down: claim nothing until its half-open time, so replicas with other accounts take the dials.
        const openUntil = options.breaker.openUntil();
        if (openUntil) {
          await pause(Math.max(1, openUntil.getTime() - clock.now().getTime()));
          continue;
        }
        await refreshBacklog();
        const claim = await queue.claimNext();
        if (claim.kind === "claimed") await place(claim.dial);
        else if (claim.kind === "paced") await pause(Math.min(claim.waitMs, options.idlePollMs));
        else if (claim.kind === "idle") await pause(options.idlePollMs);
      } catch (error) {
        // The database restarting, a lost connection: the dial stays where it was; look again shortly.
        logger.error({ err: error }, "the placer could not claim or settle a dial; trying again");
        await pause(options.idlePollMs);
      }
    }
  };

  const lanes = Array.from({ length: options.lanes }, lane);
  return {
    wake,
    stop: async () => {
      running = false;
      wake();
      await Promise.all(lanes);
    },
  };
}
