import { createCipheriv, createHash } from "node:crypto";
import { Readable } from "node:stream";

const CHUNK_BYTES = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK_BYTES);

/**
 * `totalBytes` of deterministic pseudo-random bytes, produced on demand (AES-CTR keystream of
 * `seed`): the same seed gives the same bytes, and only one 64 KiB chunk exists at a time.
 */
export const pseudoRandomStream = (seed: string, totalBytes: number): Readable => {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  const keystream = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  let remaining = totalBytes;
  return new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (remaining <= 0) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK_BYTES, remaining);
      remaining -= size;
      this.push(keystream.update(size === CHUNK_BYTES ? ZEROS : ZEROS.subarray(0, size)));
    },
  });
};
