import { randomUUID } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { AudioTools } from "@callflow/media";
import { fetchAndProbeInput } from "./build-recording.ts";
import type { RecordingStorage } from "./recording-storage.ts";

/**
 * Merge inputs downloaded and probed while the call is still arriving (each chunk as its chunkReady
 * goes by), so the merge itself starts at the concatenation. The same download and probe a merge
 * does (`fetchAndProbeInput`), done earlier: every input is still probed before it goes in
 * (invariant 8), and anything missing here is fetched by the merge as before. Only readable inputs
 * are kept; a chunk object never changes under its key, so an entry stays valid until taken. A key
 * a merge has asked for is not prefetched afterwards (a backlog of chunkReady must not redo its work).
 *
 * Bounded: at most `maxBytes` on disk (past it, prefetching stops until merges take their inputs),
 * and an entry nobody took within `maxAgeMs` (its call failed, or another replica merged it) is
 * removed. With several merge replicas a call's inputs are spread over them, so each finds its share.
 */
export interface PrefetchedInputs {
  /** Downloads and probes `objectKey` into the cache, unless it is there, on its way, or the cache is full. */
  prefetch(objectKey: string, index: number): Promise<void>;
  /**
   * Moves the prefetched file to `file` and gives its probe; undefined when it is not here (then the
   * merge fetches it). Waits for a prefetch still in flight rather than downloading twice.
   */
  take(objectKey: string, file: string): Promise<{ durationSeconds: number } | undefined>;
  /** How many entries and bytes are held (metrics and tests). */
  size(): { entries: number; bytes: number };
  /** Stops prefetching and removes every file. */
  close(): Promise<void>;
}

interface Entry {
  file: string;
  at: number;
  bytes: number;
  ready: Promise<{ durationSeconds: number } | undefined>;
}

export function createPrefetchedInputs(deps: {
  storage: Pick<RecordingStorage, "download">;
  tools: AudioTools;
  dir: string;
  maxBytes: number;
  maxAgeMs: number;
  now?: () => number;
}): PrefetchedInputs {
  const now = deps.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // Keys a merge already asked for (taken, or fetched itself): a chunkReady that comes later (a
  // prefetch backlog, a redelivery) must not download what no merge will take.
  const taken = new Map<string, number>();
  const abort = new AbortController();
  let bytes = 0;
  const made = mkdir(deps.dir, { recursive: true });

  const drop = async (objectKey: string, entry: Entry): Promise<void> => {
    if (entries.get(objectKey) !== entry) return;
    entries.delete(objectKey);
    bytes -= entry.bytes;
    await rm(entry.file, { force: true });
  };

  const evictExpired = async (): Promise<void> => {
    const oldest = now() - deps.maxAgeMs;
    for (const [key, at] of taken) if (at < oldest) taken.delete(key);
    await Promise.all([...entries].filter(([, entry]) => entry.at < oldest).map(([key, entry]) => drop(key, entry)));
  };

  const fetch = async (objectKey: string, index: number, entry: Entry): Promise<{ durationSeconds: number } | undefined> => {
    try {
      await made;
      const probed = await fetchAndProbeInput(deps, { objectKey, index }, entry.file, abort.signal);
      // An unreadable or missing input is the merge's to report, with its own reason.
      if (typeof probed === "string") throw new Error(probed);
      entry.bytes = (await stat(entry.file)).size;
      bytes += entry.bytes;
      return { durationSeconds: probed.durationSeconds };
    } catch {
      await drop(objectKey, entry);
      return undefined;
    }
  };

  return {
    async prefetch(objectKey, index) {
      if (abort.signal.aborted || entries.has(objectKey)) return;
      await evictExpired();
      if (taken.has(objectKey) || entries.has(objectKey) || bytes >= deps.maxBytes) return;
      const entry: Entry = { file: path.join(deps.dir, randomUUID()), at: now(), bytes: 0, ready: Promise.resolve(undefined) };
      entries.set(objectKey, entry);
      entry.ready = fetch(objectKey, index, entry);
      await entry.ready;
    },
    async take(objectKey, file) {
      taken.set(objectKey, now());
      const entry = entries.get(objectKey);
      if (!entry) return undefined;
      const probed = await entry.ready;
      if (!probed || entries.get(objectKey) !== entry) return undefined;
      entries.delete(objectKey);
      bytes -= entry.bytes;
      try {
        await rename(entry.file, file);
        return probed;
      } catch {
        await rm(entry.file, { force: true });
        return undefined;
      }
    },
    size: () => ({ entries: entries.size, bytes }),
    async close() {
      abort.abort();
      await Promise.allSettled([...entries.values()].map((entry) => entry.ready));
      entries.clear();
      bytes = 0;
      await rm(deps.dir, { recursive: true, force: true });
    },
  };
}
