import { createHash } from "node:crypto";
import type { Readable } from "node:stream";

export const readAll = async (stream: Readable): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** sha256 and byte count of a stream, read chunk by chunk. */
export const digestOf = async (stream: Readable): Promise<{ sha256: string; bytes: number }> => {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), bytes };
};

/** Array.fromAsync arrives with Node 22; we run on 20. */
export const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
};

/** Size and sha256 of a buffer: compares megabytes at once, and a mismatch prints two short lines. */
export const fingerprint = (bytes: Buffer): { sha256: string; bytes: number } => ({
  sha256: createHash("sha256").update(bytes).digest("hex"),
  bytes: bytes.length,
});
