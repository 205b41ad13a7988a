import { Readable } from "node:stream";

/** The first `count` bytes of `source`; stops reading (and destroys) `source` once they are out. */
export const takeBytes = (source: Readable, count: number): Readable =>
  Readable.from(
    (async function* () {
      let remaining = count;
      try {
        if (remaining <= 0) return;
        for await (const chunk of source) {
          const bytes = chunk as Buffer;
          const piece = bytes.length > remaining ? bytes.subarray(0, remaining) : bytes;
          remaining -= piece.length;
          yield piece;
          if (remaining === 0) return;
        }
      } finally {
        source.destroy();
      }
    })(),
    { objectMode: false },
  );
