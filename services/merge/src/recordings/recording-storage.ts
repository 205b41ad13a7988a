import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { ObjectNotFoundError, type ObjectStore } from "@callflow/storage";

/** What merge does with object storage: chunks in, one recording out, chunks deleted once it is safe. */
export interface RecordingStorage {
  exists(key: string): Promise<boolean>;
  /** Streams the object to a file (the disk holds it, memory never does); "missing" when the key does not exist. */
  download(key: string, toPath: string, signal: AbortSignal): Promise<"downloaded" | "missing">;
  /** Streams a file up; resolves to the size the store reports back. */
  upload(key: string, fromPath: string, contentType: string): Promise<{ sizeBytes: number }>;
  delete(key: string): Promise<void>;
  deleteMany(keys: readonly string[]): Promise<void>;
}

export const objectStoreRecordings = (store: ObjectStore): RecordingStorage => ({
  exists: async (key) => (await store.head(key)) !== null,
  download: async (key, toPath, signal) => {
    let object;
    try {
      object = await store.getStream(key);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return "missing";
      throw error;
    }
    await pipeline(object.body, createWriteStream(toPath), { signal });
    return "downloaded";
  },
  upload: async (key, fromPath, contentType) => {
    const { size } = await stat(fromPath);
    // contentLength makes a short read fail the upload instead of storing a truncated recording.
    const stored = await store.putStream(key, createReadStream(fromPath), { contentType, contentLength: size });
    return { sizeBytes: stored.size };
  },
  delete: (key) => store.delete(key),
  deleteMany: (keys) => store.deleteMany(keys),
});
