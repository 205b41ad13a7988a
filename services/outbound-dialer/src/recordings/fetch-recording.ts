import { randomBytes } from "node:crypto";
import { pipeline, Transform } from "node:stream";
import type { DialRecordingFetchRequested, Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { callPrefix, recordWholeUpload, type StoredAudio } from "@callflow/call-lifecycle";
import { MediaToolError, probeAudio, type AudioTools } from "@callflow/media";
import { ack, commitWithEvents, PermanentError, retry, type AckOutcome, type Clock, type OutboxRelay, type RetryOutcome } from "@callflow/messaging";
import type { ObjectStore } from "@callflow/storage";
import type { Logger } from "@callflow/telemetry";
import type { Telephony } from "@callflow/telephony";

export interface RecordingFetchPolicy {
  maxAttempts: number;
  /** The wait before the second attempt; it doubles for each later one. */
  retryMs: number;
  maxBytes: number;
  probe: Pick<AudioTools, "ffprobe" | "timeoutMs">;
}

export interface FetchRecordingDeps {
  db: Db;
  topology: Topology;
  relay?: Pick<OutboxRelay, "publishNow"> | undefined;
  store: ObjectStore;
  telephony: Pick<Telephony, "openRecording">;
  clock: Clock;
  logger: Pick<Logger, "info" | "warn">;
  policy: RecordingFetchPolicy;
  /** How often a fetch in progress refreshes its `heartbeat_at` (the reaper re-drives a silent one). */
  heartbeatMs: number;
}

/** The error codes a fetch ends with; the recording endpoints answer them. */
export const RECORDING_FETCH_FAILED = "recording_fetch_failed";
export const NO_RECORDING = "no_recording";
const RECORDING_UNREADABLE = "recording_unreadable";
const RECORDING_TOO_LARGE = "recording_too_large";

export type FetchResult = { kind: "stored"; callId: string } | { kind: "retrying"; attempt: number } | { kind: "failed"; code: string } | { kind: "not_due"; status: string };

type FetchOutcome = (AckOutcome | RetryOutcome) & { readonly result: FetchResult };

interface ClaimedFetch {
  dialId: string;
  tenantId: string;
  callId: string;
  recordingUrl: string | null;
  attempt: number;
  maxAttempts: number;
}

/** The fetch was re-driven (or settled) while this attempt worked: its transaction rolls back. */
class ClaimLost extends Error {}

class RecordingTooLarge extends PermanentError {
  constructor(maxBytes: number) {
    super(RECORDING_TOO_LARGE, `the recording exceeds the limit of ${maxBytes} bytes`);
  }
}

/** Counts bytes through, and fails the stream past the limit: the object store never holds more. */
const limitBytes = (maxBytes: number) => {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      done(total > maxBytes ? new RecordingTooLarge(maxBytes) : null, chunk);
    },
  });
};

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The recording fetch job (`dialRecordingFetchRequested`, carrying the dial's id only): claims the
 * dial's `recording_fetches` row (attempt + 1, started_at, heartbeat_at), streams the provider's
 * recording into object storage under a key of this attempt's own, probes it, and commits the call
 * through the same path an upload takes (call, chunk, transcription stage and events in one
 * transaction) together with the fetch's success, fenced on the attempt it claimed. The call's id was
 * chosen when the fetch was queued, so a redelivered job can never make a second call.
 *
 * A failed attempt deletes what it stored, puts the row back to `queued` with its error and asks for
 * the message again after a doubling wait; after `maxAttempts` the fetch fails `recording_fetch_failed`
 * (or at once: `no_recording` when the provider has none, `recording_unreadable`, `recording_too_large`).
 */
export const createFetchRecording = (deps: FetchRecordingDeps) => {
  const { db, policy } = deps;
  const commit = <T>(work: Parameters<typeof commitWithEvents<T>>[2]) => commitWithEvents(db, deps.topology, work, deps.relay);

  const claim = async (event: DialRecordingFetchRequested): Promise<ClaimedFetch | { status: string }> => {
    const now = deps.clock.now();
    const [claimed] = await db.$queryRaw<ClaimedFetch[]>`
      UPDATE recording_fetches
         SET status = 'running', attempt = attempt + 1, started_at = ${now}, heartbeat_at = ${now}, updated_at = ${now}
       WHERE dial_id = ${event.dialId}::uuid AND tenant_id = ${event.tenantId}::uuid AND status = 'queued'
      RETURNING dial_id::text AS "dialId", tenant_id::text AS "tenantId", call_id::text AS "callId",
                recording_url AS "recordingUrl", attempt, max_attempts AS "maxAttempts"`;
    if (claimed) return claimed;
    const row = await db.recordingFetch.findUnique({ where: { dialId: event.dialId }, select: { status: true } });
    return { status: row?.status ?? "unknown" };
  };

  const store = async (fetch: ClaimedFetch): Promise<StoredAudio> => {
    const key = `${callPrefix(fetch.tenantId, fetch.callId)}v1/chunks/00000-dial-a${fetch.attempt}-${randomBytes(4).toString("hex")}.wav`;
    if (!fetch.recordingUrl) throw new PermanentError(NO_RECORDING, "the provider named no recording for this call");
    const recording = await deps.telephony.openRecording(fetch.recordingUrl);
    if (recording.sizeBytes !== undefined && recording.sizeBytes > policy.maxBytes) {
      recording.body.destroy();
      throw new RecordingTooLarge(policy.maxBytes);
    }
    let size: number;
    try {
      // pipeline, not pipe: a download cut by the network must fail the upload, not leave it waiting.
      const limited = limitBytes(policy.maxBytes);
      pipeline(recording.body, limited, () => undefined);
      ({ size } = await deps.store.putStream(key, limited, { contentType: recording.contentType }));
      // A body that ended short of the length the provider announced is a cut download, not a recording.
      if (recording.sizeBytes !== undefined && size !== recording.sizeBytes) {
        throw new Error(`the download ended after ${size} of ${recording.sizeBytes} bytes`);
      }
      const probed = await probeAudio(policy.probe, new URL(await deps.store.presignGet(key, 600))).catch((error: unknown) => {
        if (error instanceof MediaToolError && error.rejectedInput) throw new PermanentError(RECORDING_UNREADABLE, `the provider's recording could not be read as audio: ${error.message}`);
        throw error;
      });
      return { key, sizeBytes: size, contentType: recording.contentType, durationSeconds: probed.durationSeconds };
    } catch (error) {
      recording.body.destroy();
      await deps.store.delete(key).catch(() => undefined);
      throw error;
    }
  };

  /** The call and the fetch's success in one transaction; false when the claim was lost (re-driven meanwhile). */
  const commitCall = async (fetch: ClaimedFetch, audio: StoredAudio): Promise<boolean> => {
    const now = deps.clock.now();
    try {
      await recordWholeUpload(
        (work) =>
          commit(async (tx, emit) => {
            const { count } = await tx.recordingFetch.updateMany({
              where: { dialId: fetch.dialId, status: "running", attempt: fetch.attempt },
              data: { status: "succeeded", finishedAt: now, heartbeatAt: now, errorCode: null, errorMessage: null },
            });
            if (count !== 1) throw new ClaimLost();
            const accepted = await work(tx, emit);
            await tx.dial.updateMany({ where: { id: fetch.dialId }, data: { callId: fetch.callId } });
            await emit("dialRecordingReady", { tenantId: fetch.tenantId, dialId: fetch.dialId, callId: fetch.callId });
            return accepted;
          }),
        { tenantId: fetch.tenantId, callId: fetch.callId, source: "dial", audio, metadata: { dialId: fetch.dialId } },
      );
      return true;
    } catch (error) {
      if (error instanceof ClaimLost) return false;
      throw error;
    }
  };

  /** The attempt failed: queued again with its error while attempts remain, else failed for good. */
  const settleFailure = async (fetch: ClaimedFetch, error: unknown): Promise<FetchOutcome> => {
    const now = deps.clock.now();
    const permanent = error instanceof PermanentError;
    const notFound = permanent && ((error as PermanentError).code === "telephony_not_found" || (error as PermanentError).code === NO_RECORDING);
    const last = permanent || fetch.attempt >= fetch.maxAttempts;
    const errorCode = notFound ? NO_RECORDING : permanent ? (error as PermanentError).code : last ? RECORDING_FETCH_FAILED : "recording_fetch_retrying";
    const errorMessage = notFound
      ? `the provider has no recording for this call: ${messageOf(error)}`
      : last && !permanent
        ? `the recording could not be fetched in ${fetch.attempt} attempts; last: ${messageOf(error)}`
        : messageOf(error);
    const { count } = await db.recordingFetch.updateMany({
      where: { dialId: fetch.dialId, status: "running", attempt: fetch.attempt },
      data: last
        ? { status: "failed", finishedAt: now, errorCode, errorMessage: errorMessage.slice(0, 2_000) }
        : { status: "queued", startedAt: null, heartbeatAt: null, errorCode, errorMessage: errorMessage.slice(0, 2_000) },
    });
    const log = { dialId: fetch.dialId, attempt: fetch.attempt, maxAttempts: fetch.maxAttempts, errorCode, error: messageOf(error) };
    if (count !== 1) return { ...ack(), result: { kind: "not_due", status: "re-driven meanwhile" } };
    if (last) {
      deps.logger.warn(log, "fetching a dial's recording failed for good");
      return { ...ack(), result: { kind: "failed", code: errorCode } };
    }
    deps.logger.warn(log, "fetching a dial's recording failed; it will be tried again");
    return { ...retry({ afterMs: policy.retryMs * 2 ** (fetch.attempt - 1), code: errorCode, message: errorMessage }), result: { kind: "retrying", attempt: fetch.attempt } };
  };

  return async (event: DialRecordingFetchRequested): Promise<FetchOutcome> => {
    const claimed = await claim(event);
    if (!("callId" in claimed)) return { ...ack(), result: { kind: "not_due", status: claimed.status } };
    const heartbeat = setInterval(() => {
      db.recordingFetch
        .updateMany({ where: { dialId: claimed.dialId, status: "running", attempt: claimed.attempt }, data: { heartbeatAt: deps.clock.now() } })
        .catch((error: unknown) => deps.logger.warn({ err: error, dialId: claimed.dialId }, "a recording fetch's heartbeat failed"));
    }, deps.heartbeatMs);
    try {
      let audio: StoredAudio;
      try {
        audio = await store(claimed);
      } catch (error) {
        return await settleFailure(claimed, error);
      }
      let held: boolean;
      try {
        held = await commitCall(claimed, audio);
      } catch (error) {
        await deps.store.delete(audio.key).catch(() => undefined);
        return await settleFailure(claimed, error);
      }
      if (!held) {
        await deps.store.delete(audio.key).catch(() => undefined);
        return { ...ack(), result: { kind: "not_due", status: "re-driven meanwhile" } };
      }
      deps.logger.info({ dialId: claimed.dialId, callId: claimed.callId, attempt: claimed.attempt, durationSeconds: audio.durationSeconds }, "a dial's recording entered the pipeline");
      return { ...ack(), result: { kind: "stored", callId: claimed.callId } };
    } finally {
      clearInterval(heartbeat);
    }
  };
};
