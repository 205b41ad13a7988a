import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import type { IncomingMessage } from "node:http";
import { mkdir, readdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FileStore } from "@tus/file-store";
import { Server as TusServer, type Upload } from "@tus/server";
import type { Logger } from "@callflow/telemetry";
import { recordWholeUpload } from "../calls/intake.ts";
import { chunkObjectKey } from "../calls/object-keys.ts";
import type { CallRouteDeps } from "../routes/route-deps.ts";
import { ApiError, errorJson } from "../http/api-error.ts";
import { parseMetadata } from "./audio-body.ts";
import { receiveAudio } from "./receive-audio.ts";

/**
 * tus resumable uploads staged on bounded local disk (@tus/file-store) and streamed to object storage
 * when complete, then handed to the pipeline by the same durable path as POST /v1/calls. The upload
 * id is the call id, so a finished upload that is reported twice creates one call.
 *
 * The staging disk is per replica: a multi-replica deployment needs sticky routing by upload id or
 * @tus/s3-store on S3/MinIO (s3rver, the embedded default, lacks ListParts, which it needs).
 */

const TENANT_METADATA = "callflowTenant";

/** The tus Upload-Metadata `redactPii`: "true" or "false" overrides the tenant's setting; absent: the tenant's. */
const redactPiiOf = (value: string | null | undefined): boolean | undefined => {
  if (value === undefined || value === null || value === "") return undefined;
  if (value === "true" || value === "false") return value === "true";
  throw new ApiError(400, "invalid_redact_pii", "Upload-Metadata redactPii must be true or false");
};

export interface ResumableOptions {
  directory: string | undefined;
  maxStagedBytes: number;
  expiryMs: number;
  /** Mount point of the tus endpoint. */
  path: string;
}

export interface ResumableUploads {
  readonly tus: TusServer;
  /** Tells the tus hooks which tenant the route authenticated for this Node request. */
  bindTenant(request: IncomingMessage, tenantId: string): void;
  /** The tenant that created a staged upload; undefined when it is not staged (unknown or finished). */
  ownerOf(id: string): Promise<string | undefined>;
  cleanUpExpired(): Promise<number>;
}

const tusError = (error: ApiError) => ({ status_code: error.statusCode, body: JSON.stringify(errorJson(error.code, error.message)) });

const stagedBytes = async (directory: string): Promise<number> => {
  let total = 0;
  for (const name of await readdir(directory)) {
    if (name.endsWith(".json")) continue;
    total += await stat(path.join(directory, name)).then((s) => s.size, () => 0);
  }
  return total;
};

export const createResumableUploads = async (
  deps: CallRouteDeps & { logger: Logger },
  options: ResumableOptions,
): Promise<ResumableUploads> => {
  const directory = options.directory ?? path.join(tmpdir(), "callflow-tus");
  await mkdir(directory, { recursive: true });
  const datastore = new FileStore({ directory, expirationPeriodInMilliseconds: options.expiryMs });

  // Keyed by the Node request the route authenticated: tus hands its hooks a web Request wrapping it.
  const tenants = new WeakMap<IncomingMessage, string>();
  const tenantOfHook = (request: { runtime?: { node?: { req?: object } } }) => {
    const node = request.runtime?.node?.req;
    return node ? tenants.get(node as IncomingMessage) : undefined;
  };

  const tus = new TusServer({
    path: options.path,
    datastore,
    relativeLocation: true,
    respectForwardedHeaders: true,
    maxSize: deps.maxUploadBytes,
    exposedHeaders: ["Callflow-Call-Id"],
    namingFunction: () => randomUUID(),
    async onUploadCreate(request, upload) {
      const tenantId = tenantOfHook(request);
      if (!tenantId) throw tusError(new ApiError(401, "unauthenticated", "tus requests need an API key"));
      if (upload.sizeIsDeferred || upload.size === undefined) {
        throw tusError(new ApiError(400, "upload_length_required", "declare Upload-Length: deferred lengths are not accepted"));
      }
      if ((await stagedBytes(directory)) + upload.size > options.maxStagedBytes) {
        throw tusError(new ApiError(507, "staging_full", "the upload staging area is full; retry later"));
      }
      try {
        parseMetadata(upload.metadata?.metadata ?? undefined);
        redactPiiOf(upload.metadata?.redactPii);
      } catch (error) {
        throw tusError(error as ApiError);
      }
      return { metadata: { ...upload.metadata, [TENANT_METADATA]: tenantId } };
    },
    async onUploadFinish(_request, upload) {
      try {
        const callId = await finish(upload);
        return { headers: { "Callflow-Call-Id": callId } };
      } catch (error) {
        if (error instanceof ApiError) throw tusError(error);
        deps.logger.error({ err: error, uploadId: upload.id }, "finishing a tus upload failed");
        throw tusError(new ApiError(500, "internal_error", "the upload could not be handed to processing; retry the last PATCH"));
      }
    },
  });

  /** Staged file → object storage → call rows + events; the staged copy is removed once it is safe. */
  const finish = async (upload: Upload): Promise<string> => {
    const tenantId = upload.metadata?.[TENANT_METADATA];
    if (!tenantId) throw new ApiError(500, "internal_error", "staged upload lost its tenant");
    const callId = upload.id;
    const existing = await deps.db.call.findFirst({ where: { id: callId, tenantId }, select: { id: true } });
    if (!existing) {
      let audio;
      try {
        audio = await receiveAudio(deps, {
          body: createReadStream(path.join(directory, upload.id)),
          declaredLength: upload.size,
          maxBytes: deps.maxUploadBytes,
          keyFor: (format) => chunkObjectKey(tenantId, callId, 1, 0, format),
        });
      } catch (error) {
        // A complete upload that is not acceptable audio will not become acceptable: drop it.
        if (error instanceof ApiError) await datastore.remove(upload.id).catch(() => undefined);
        throw error;
      }
      const failurePolicy = upload.metadata?.failurePolicy === "partial" ? "partial" : "fail";
      const metadata = parseMetadata(upload.metadata?.metadata ?? undefined);
      const redactPii = redactPiiOf(upload.metadata?.redactPii);
      try {
        await recordWholeUpload(deps.commit, { tenantId, callId, source: "resumable", audio, failurePolicy, redactPii, ...(metadata ? { metadata } : {}) });
      } catch (error) {
        await deps.store.delete(audio.key).catch(() => undefined);
        throw error;
      }
    }
    await datastore.remove(upload.id).catch((error: unknown) => deps.logger.warn({ err: error, uploadId: upload.id }, "could not remove a staged upload"));
    return callId;
  };

  return {
    tus,
    bindTenant: (request, tenantId) => tenants.set(request, tenantId),
    async ownerOf(id) {
      try {
        const upload = await datastore.getUpload(id);
        return upload.metadata?.[TENANT_METADATA] ?? undefined;
      } catch {
        return undefined;
      }
    },
    cleanUpExpired: () => tus.cleanUpExpiredUploads(),
  };
};
