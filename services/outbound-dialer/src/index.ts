import { defineConsumer, openRuntime, systemClock, type Clock, type ServiceHandle, type ServiceStartOptions } from "@callflow/messaging";
import { openStorage } from "@callflow/storage";
import { openTelephony } from "@callflow/telephony";
import { providerMetrics } from "@callflow/telemetry";
import type { DialerConfig } from "./config.ts";
import { dialerMetrics, observeCallbackLag } from "./metrics.ts";
import { createAccountBreaker } from "./placement/account-breaker.ts";
import { createDialQueue } from "./placement/dial-queue.ts";
import { startPlacer } from "./placement/placer.ts";
import { createOnDialRequested, failDialOnDeadLetter } from "./requests/on-dial-requested.ts";
import { createFetchRecording } from "./recordings/fetch-recording.ts";
import { createApplyDialStatus } from "./status/apply-dial-status.ts";
import { reconcileMissingRecordings, reconcileStaleDials } from "./status/reconcile-dials.ts";
import { startReconcileTimer } from "./status/reconcile-timer.ts";

export { dialerConfigFromEnv, type DialerConfig } from "./config.ts";
export { isWindowOpen, nextWindowOpening, type CallWindow } from "./dials/call-window.ts";

export type DialerHandle = ServiceHandle;

export interface DialerStartOptions extends ServiceStartOptions {
  /** The time every decision reads (call windows, pacing, aging, backoff); tests move it. */
  clock?: Clock;
}

/**
 * The outbound dialer: dialRequested wakes it; a placer in each replica claims due dials from
 * Postgres (paced per provider account, by priority with aging, capped per tenant), fences a dead
 * replica's attempt by its marker, places the call and commits `placed` with dialStatusChanged.
 */
export async function start(config: DialerConfig, options: DialerStartOptions = {}): Promise<DialerHandle> {
  const { clock = systemClock, ...runtimeOptions } = options;
  const runtime = await openRuntime({ service: "outbound-dialer", config, ...runtimeOptions });
  const telephony = await runtime.own("starting telephony", () => openTelephony(config.telephony), (opened) => opened.close());
  const storage = await runtime.own("waiting for object storage", () => openStorage(config.storage, { logger: runtime.logger }), (opened) => opened.close());

  const queue = createDialQueue({
    db: runtime.db,
    topology: runtime.topology,
    relay: runtime.relay,
    clock,
    policy: { account: telephony.account, ...config.pacing, staleAfterMs: config.staleAfterMs },
  });
  const metrics = dialerMetrics(runtime.metrics.registry, { callsPerSecond: config.pacing.callsPerSecond, now: () => clock.now().getTime() });
  const placer = startPlacer({
    queue,
    telephony,
    callbacks: config.callbacks,
    clock,
    logger: runtime.logger,
    metrics,
    lanes: config.concurrency,
    heartbeatMs: config.heartbeatMs,
    idlePollMs: config.pacing.idlePollMs,
    retries: config.retries,
    breaker: createAccountBreaker({
      account: telephony.account,
      ...config.breaker,
      clock,
      metrics: { provider: config.telephony.provider, on: providerMetrics(runtime.metrics.registry, [config.telephony.provider]) },
    }),
  });
  // Stopped first: placements in flight commit before telephony and the database close.
  runtime.onStop(() => placer.stop());
  const { db, topology, relay, logger } = runtime;
  const recordings = { waitMs: config.recordings.waitMs, maxAttempts: config.recordings.maxAttempts };
  const dialStatus = createApplyDialStatus({ db, clock, logger, retry: config.attemptRetry, topology, relay, recordingMaxAttempts: config.recordings.maxAttempts });
  const reconcileDeps = { db, topology, relay, telephony, clock, logger, retry: config.attemptRetry, recordings };
  const reconciler = startReconcileTimer({
    everyMs: config.reconcileIntervalMs,
    reconcile: async () => {
      const dials = await reconcileStaleDials(reconcileDeps);
      const missing = await reconcileMissingRecordings(reconcileDeps);
      return { stale: dials.stale + missing.stale, actions: [...dials.actions, ...missing.actions] };
    },
    logger,
  });
  const fetchRecording = createFetchRecording({ db, topology, relay, store: storage.store, telephony, clock, logger, policy: config.recordings, heartbeatMs: config.heartbeatMs });
  runtime.onStop(() => reconciler.stop());

  return runtime.run({
    consumers: [
      defineConsumer({
        declaration: { key: "dialer", ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver },
        concurrency: config.concurrency,
        handler: createOnDialRequested({ queue, wake: placer.wake }),
        onDeadLetter: failDialOnDeadLetter(queue),
      }),
      defineConsumer({
        declaration: { key: "dialStatus", ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver },
        concurrency: config.concurrency,
        handler: async (event, ctx) => {
          const outcome = await dialStatus.handle(event, ctx);
          if (outcome.kind === "ack" && outcome.applied.kind === "moved") observeCallbackLag(metrics, event.occurredAt, clock.now());
          // A dial canceled while its call is live: the call is ended at the carrier (a failure here is retried).
          if (outcome.kind === "ack" && outcome.applied.kind === "hang_up") {
            await telephony.hangUp(outcome.applied.providerCallId);
            logger.info({ dialId: event.dialId, providerCallId: outcome.applied.providerCallId }, "dial canceled while its call was live: hung up");
          }
          return outcome;
        },
        onDeadLetter: dialStatus.onDeadLetter,
      }),
      defineConsumer({
        // Attempts are counted on the fetch row; max_deliver only catches a handler that keeps crashing.
        declaration: { key: "recordingFetch", ackWaitMs: Math.max(config.ackWaitMs, config.telephony.recordingTimeoutMs + 30_000), maxDeliver: config.recordings.maxAttempts + 5 },
        concurrency: 2,
        handler: (event) => fetchRecording(event),
      }),
    ],
  });
}
