import { failCallAtStage, lockCall } from "@callflow/call-lifecycle";
import { OperationNotSupportedError, type ObjectStore, type PendingMultipartUpload } from "@callflow/storage";
import { applyInTransaction, assertStillLocked, errorText, writeAudit, type ReaperAction, type SweepRun } from "../actions.ts";
import { before, type AbandonedUploadPolicy } from "../policy.ts";
import type { Sweep } from "./sweep.ts";

interface Candidate {
  id: string;
  tenantId: string;
  audioVersion: number;
  createdAt: Date;
  lastChunkAt: Date | null;
}

export const UPLOAD_ABANDONED = "upload_abandoned";

interface ChunkFacts {
  index: number;
  status: string;
  durationSeconds: number | null;
  sizeBytes: bigint | null;
}

export type UploadPlan =
  | { action: "finish"; chunkCount: number; durationSeconds: number; sizeBytes: bigint }
  | { action: "fail"; errorMessage: string };

/**
 * What to do with a recorder call that never got `/finish`. `finish` (the default) does what
 * `/finish` would have done when the chunks that arrived are whole (0 … n−1, none still uploading),
 * so the customer gets what was recorded; anything else (no chunks, a gap, a body cut off, or
 * policy `fail`) fails the call, since finishing it could never settle.
 */
export const planAbandonedUpload = (chunks: readonly ChunkFacts[], policy: AbandonedUploadPolicy, idleSince: Date): UploadPlan => {
  const idle = `no chunk and no /finish since ${idleSince.toISOString()}`;
  if (policy === "fail") return { action: "fail", errorMessage: `the recorder upload was abandoned: ${idle}` };
  if (chunks.length === 0) return { action: "fail", errorMessage: `the recorder upload was abandoned without any chunk: ${idle}` };
  const indexes = new Set(chunks.map((chunk) => chunk.index));
  const chunkCount = Math.max(...indexes) + 1;
  const missing = [...Array(chunkCount).keys()].filter((index) => !indexes.has(index));
  if (missing.length > 0) return { action: "fail", errorMessage: `the recorder upload was abandoned with chunks ${missing.slice(0, 20).join(", ")} missing: ${idle}` };
  const cut = chunks.filter((chunk) => chunk.status === "uploading").map((chunk) => chunk.index);
  if (cut.length > 0) return { action: "fail", errorMessage: `the recorder upload was abandoned while chunks ${cut.slice(0, 20).join(", ")} were still uploading: ${idle}` };
  return {
    action: "finish",
    chunkCount,
    durationSeconds: chunks.reduce((sum, chunk) => sum + (chunk.durationSeconds ?? 0), 0),
    sizeBytes: chunks.reduce((sum, chunk) => sum + (chunk.sizeBytes ?? 0n), 0n),
  };
};

const callPrefix = (c: Candidate) => `tenants/${c.tenantId}/calls/${c.id}/`;

/** The multipart uploads open under the call's prefix, listed once per call; `error` where the store could not list them. */
type OpenUploads = { uploads: PendingMultipartUpload[] } | { error: unknown };

const listOpenUploads = async (store: ObjectStore, c: Candidate): Promise<OpenUploads> => {
  const uploads: PendingMultipartUpload[] = [];
  try {
    for await (const upload of store.listMultipartUploads(callPrefix(c))) uploads.push(upload);
  } catch (error) {
    return { error };
  }
  return { uploads };
};

/**
 * A chunk's body still streaming in: its row is written only once the body is stored, so the rows
 * alone cannot tell, but its multipart upload under the call's prefix can (where the store lists
 * them; where it cannot, the rows decide and abortMultipartUploads audits that it could not look).
 */
const chunkStillUploading = (open: OpenUploads | undefined, idleBefore: Date): boolean =>
  open !== undefined && "uploads" in open && open.uploads.some((upload) => upload.initiated > idleBefore);

/**
 * Multipart uploads the recorder left open under the call's prefix are aborted where the store can
 * list them; s3rver cannot, and that is audited rather than hidden.
 */
const abortMultipartUploads = async (run: SweepRun, store: ObjectStore, c: Candidate, open: OpenUploads, idleBefore: Date): Promise<ReaperAction[]> => {
  const base = { entityType: "call", entityId: c.id, tenantId: c.tenantId, before: null };
  if ("error" in open) {
    const { error } = open;
    const unsupported = error instanceof OperationNotSupportedError;
    const action: ReaperAction = {
      ...base,
      kind: unsupported ? "multipart.abort_unsupported" : "multipart.abort_failed",
      reason: unsupported ? `unsupported here: ${error.message}; open multipart uploads under ${callPrefix(c)} stay until the bucket's lifecycle rule removes them` : errorText(error),
      after: null,
      outcome: "failed",
    };
    await writeAudit(run.db, run, action);
    return [action];
  }
  const actions: ReaperAction[] = [];
  for (const upload of open.uploads) {
    if (upload.initiated > idleBefore) continue;
    const action: ReaperAction = {
      ...base,
      kind: "multipart.abort",
      entityType: "multipart_upload",
      entityId: upload.uploadId,
      reason: `multipart upload of ${upload.key} (started ${upload.initiated.toISOString()}) belongs to an abandoned upload`,
      after: { key: upload.key },
      outcome: run.dryRun ? "dry_run" : "applied",
    };
    if (!run.dryRun) {
      try {
        await store.abortMultipartUpload(upload.key, upload.uploadId);
      } catch (error) {
        Object.assign(action, { kind: "multipart.abort_failed", outcome: "failed", after: { key: upload.key, error: errorText(error) } });
      }
    }
    await writeAudit(run.db, run, action);
    actions.push(action);
  }
  return actions;
};

/**
 * Recorder calls still `uploading` with no `/finish`, idle for the threshold: created that long
 * ago and no chunk written since (a call still receiving chunks is never touched).
 */
export const settleAbandonedUploads: Sweep<Candidate> = {
  name: "uploads",

  find(run) {
    const idleBefore = before(run.now, run.policy.abandonedUploadMs);
    return run.db.$queryRaw<Candidate[]>`
      SELECT k.id::text AS id, k.tenant_id::text AS "tenantId", k.audio_version AS "audioVersion", k.created_at AS "createdAt",
             (SELECT max(GREATEST(c.created_at, c.updated_at)) FROM chunks c WHERE c.call_id = k.id) AS "lastChunkAt"
      FROM calls k
      WHERE k.status = 'uploading' AND k.source = 'recorder' AND k.created_at <= ${idleBefore}
        AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.call_id = k.id AND GREATEST(c.created_at, c.updated_at) > ${idleBefore})
      ORDER BY k.created_at LIMIT ${run.policy.batch}`;
  },

  stuck: (c) => ({ stage: "upload", entityType: "call", entityId: c.id, tenantId: c.tenantId, callId: c.id, status: "uploading", attempt: null, since: c.lastChunkAt ?? c.createdAt, reason: "upload_not_finished" }),

  async reap(run, candidates) {
    const actions: ReaperAction[] = [];
    const idleBefore = before(run.now, run.policy.abandonedUploadMs);
    for (const c of candidates) {
      assertStillLocked(run);
      const open = run.store ? await listOpenUploads(run.store, c) : undefined;
      if (chunkStillUploading(open, idleBefore)) continue;
      const idleSince = c.lastChunkAt && c.lastChunkAt > c.createdAt ? c.lastChunkAt : c.createdAt;
      const chunks = await run.db.chunk.findMany({
        where: { callId: c.id, audioVersion: c.audioVersion, parentChunkId: null },
        select: { index: true, status: true, durationSeconds: true, sizeBytes: true },
      });
      const plan = planAbandonedUpload(chunks, run.policy.abandonedUploadPolicy, idleSince);
      const base = { entityType: "call", entityId: c.id, tenantId: c.tenantId, before: { status: "uploading", chunks: chunks.length } };
      // The compare-and-set: still `uploading`, and no chunk arrived since the plan was made.
      const stillAbandoned = async (tx: Parameters<typeof lockCall>[0]) => {
        const call = await lockCall(tx, c.id);
        if (call?.status !== "uploading" || call.audioVersion !== c.audioVersion) return false;
        return (await tx.chunk.count({ where: { callId: c.id, audioVersion: c.audioVersion, parentChunkId: null } })) === chunks.length;
      };
      if (plan.action === "finish") {
        const { chunkCount, durationSeconds, sizeBytes } = plan;
        actions.push(
          await applyInTransaction(
            run,
            { ...base, kind: "upload.finish", reason: `recorder call idle since ${idleSince.toISOString()} without /finish; finished with its ${chunkCount} chunks`, after: { status: "processing", chunkCount } },
            async (tx, emit) => {
              if (!(await stillAbandoned(tx))) return false;
              await tx.call.update({ where: { id: c.id }, data: { status: "processing", uploadFinishedAt: run.now, expectedChunkCount: chunkCount, durationSeconds, sizeBytes } });
              await tx.stageRun.upsert({
                where: { callId_stage_audioVersion: { callId: c.id, stage: "transcription", audioVersion: c.audioVersion } },
                create: { tenantId: c.tenantId, callId: c.id, stage: "transcription", audioVersion: c.audioVersion, status: "queued" },
                update: {},
              });
              await emit("callUploadFinished", { tenantId: c.tenantId, callId: c.id, chunkCount });
              return true;
            },
          ),
        );
      } else {
        const { errorMessage } = plan;
        actions.push(
          await applyInTransaction(run, { ...base, kind: "upload.fail", reason: errorMessage, after: { status: "failed", errorCode: UPLOAD_ABANDONED } }, async (tx, emit) => {
            if (!(await stillAbandoned(tx))) return false;
            // A body that never finished streaming will not finish now: its chunk is failed too.
            await tx.chunk.updateMany({
              where: { callId: c.id, audioVersion: c.audioVersion, status: "uploading" },
              data: { status: "failed", errorCode: UPLOAD_ABANDONED, errorMessage, finishedAt: run.now, updatedAt: run.now },
            });
            const outcome = await failCallAtStage(tx, emit, { callId: c.id, audioVersion: c.audioVersion, stage: "transcription", errorCode: UPLOAD_ABANDONED, errorMessage, now: run.now });
            return outcome.outcome !== "stale";
          }),
        );
      }
      if (run.store && open && actions.at(-1)?.outcome !== "stale") actions.push(...(await abortMultipartUploads(run, run.store, c, open, idleBefore)));
    }
    return actions;
  },
};
