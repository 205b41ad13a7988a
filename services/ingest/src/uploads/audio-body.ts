import type { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import multipart from "@fastify/multipart";
import type { Prisma } from "@callflow/db";
import { ApiError } from "../http/api-error.ts";

export const AUDIO_MEDIA_TYPES = ["application/octet-stream", "audio/*", "multipart/form-data"];

/**
 * In the plugin scope of routes that read audio: every content type reaches the handler unparsed, as
 * a stream (the content decides what it is, not the header), except multipart, parsed lazily.
 */
export const acceptStreamedBodies = async (app: FastifyInstance, maxBytes: number): Promise<void> => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));
  await app.register(multipart, { limits: { fileSize: maxBytes + 1, files: 1, fields: 10, fieldSize: 16 * 1024 }, throwFileSizeLimit: false });
};

const MAX_METADATA_BYTES = 8 * 1024;

/** Client metadata: a JSON object of at most 8 KiB, from the `Callflow-Metadata` header or a form field. */
export const parseMetadata = (raw: string | undefined): Prisma.InputJsonObject | undefined => {
  if (raw === undefined || raw === "") return undefined;
  if (Buffer.byteLength(raw) > MAX_METADATA_BYTES) throw new ApiError(400, "invalid_metadata", `metadata is larger than ${MAX_METADATA_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ApiError(400, "invalid_metadata", "metadata is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new ApiError(400, "invalid_metadata", "metadata must be a JSON object");
  return parsed as Prisma.InputJsonObject;
};

export interface AudioBody {
  body: Readable;
  declaredLength: number | undefined;
  metadata: Prisma.InputJsonObject | undefined;
}

/** The audio of a request: the raw body, or the first file part of a multipart form. */
export const audioBodyOf = async (request: FastifyRequest): Promise<AudioBody> => {
  const header = request.headers["callflow-metadata"];
  if (request.isMultipart()) {
    const part = await request.file();
    if (!part) throw new ApiError(400, "empty_body", "the form has no file part");
    const field = part.fields.metadata;
    const value = field && !Array.isArray(field) && field.type === "field" ? String(field.value) : undefined;
    return { body: part.file, declaredLength: undefined, metadata: parseMetadata(value ?? (typeof header === "string" ? header : undefined)) };
  }
  const length = request.headers["content-length"];
  return {
    body: request.raw,
    declaredLength: length === undefined ? undefined : Number(length),
    metadata: parseMetadata(typeof header === "string" ? header : undefined),
  };
};
