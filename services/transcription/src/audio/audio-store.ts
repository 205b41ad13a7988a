import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { ObjectStore } from "@callflow/storage";

/** The object storage the worker reads chunks from and writes split parts to. */
export interface AudioStore {
  download(key: string, toPath: string, signal: AbortSignal): Promise<void>;
  upload(key: string, fromPath: string, contentType: string | null): Promise<void>;
  delete(key: string): Promise<void>;
}

export const objectStoreAudio = (store: ObjectStore): AudioStore => ({
  download: async (key, toPath, signal) => {
    const object = await store.getStream(key);
    await pipeline(object.body, createWriteStream(toPath), { signal });
  },
  upload: async (key, fromPath, contentType) => {
    const { size } = await stat(fromPath);
    await store.putStream(key, createReadStream(fromPath), { contentLength: size, ...(contentType ? { contentType } : {}) });
  },
  delete: (key) => store.delete(key),
});
