// The load both pipeline benches offer, and how they read its result: recorder calls of K chunks,
// sent by a fixed number of uploaders (throughput) or opened at a fixed rate (latency), then
// end-to-end times read from the call rows both sides write (created_at → completed_at).
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Db } from "../../packages/db/src/index.ts";
import { waitFor } from "../../packages/testkit/src/wait.ts";

/** How a side takes a recorder call: open, chunk by chunk, finish. Returns the call's id. */
export type UploadCall = (chunk: Buffer, chunks: number) => Promise<string>;

export type OfferedLoad = { kind: "uploaders"; uploaders: number } | { kind: "rate"; callsPerSecond: number };

export interface LoadResult {
  ids: string[];
  /** From the first upload to the last call terminal. */
  seconds: number;
  uploadSeconds: number;
  failed: number;
  /** Call opened → completed (or last updated, when it failed), in ms. */
  endToEnd: number[];
}

export const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

export const median = (values: readonly number[]): number => quantile(values, 0.5);

export const ms = (value: number): string => `${value.toFixed(0)} ms`;

export const loadAverage = (): string => `load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`;

/** One second of 16 kHz mono 16-bit WAV, made by sox: the chunk every bench call sends. */
export async function oneSecondChunk(): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "callflow-bench-chunk-"));
  try {
    const file = join(dir, "chunk.wav");
    await promisify(execFile)("sox", ["-n", "-r", "16000", "-c", "1", "-b", "16", file, "synth", "1", "sine", "440"]);
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `calls` recorder calls through `upload` under the offered load, then waits until every one is terminal. */
export async function offerRecorderLoad(
  db: Db,
  upload: UploadCall,
  options: { calls: number; chunks: number; chunk: Buffer; load: OfferedLoad; timeoutMs?: number },
): Promise<LoadResult> {
  const { calls, chunks, chunk, load } = options;
  const ids: string[] = [];
  const started = performance.now();
  if (load.kind === "uploaders") {
    let next = 0;
    await Promise.all(
      Array.from({ length: load.uploaders }, async () => {
        while (next < calls) {
          next += 1;
          ids.push(await upload(chunk, chunks));
        }
      }),
    );
  } else {
    // An open loop: call n starts at n / rate whatever the earlier ones are doing.
    const intervalMs = 1000 / load.callsPerSecond;
    await Promise.all(
      Array.from({ length: calls }, async (_, n) => {
        await sleep(n * intervalMs);
        ids.push(await upload(chunk, chunks));
      }),
    );
  }
  const uploaded = performance.now();
  await waitFor(
    "every call terminal",
    async () => (await db.call.count({ where: { id: { in: ids }, status: { in: ["completed", "failed"] } } })) === calls,
    { timeoutMs: options.timeoutMs ?? 30 * 60_000, intervalMs: 50 },
  );
  const finished = performance.now();
  const rows = await db.call.findMany({ where: { id: { in: ids } }, select: { status: true, createdAt: true, completedAt: true, updatedAt: true } });
  return {
    ids,
    seconds: (finished - started) / 1000,
    uploadSeconds: (uploaded - started) / 1000,
    failed: rows.filter((row) => row.status !== "completed").length,
    endToEnd: rows.map((row) => (row.completedAt ?? row.updatedAt).getTime() - row.createdAt.getTime()),
  };
}

/** A Callflow stack's API as an uploader: POST /v1/calls/recorder, each chunk, finish. */
export const uploadOverHttp =
  (apiUrl: string, apiKey: string): UploadCall =>
  async (chunk, chunks) => {
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${apiKey}`, ...(init.headers as Record<string, string>) } });
    const { id } = (await (await api("/v1/calls/recorder", { method: "POST" })).json()) as { id: string };
    for (let index = 0; index < chunks; index++) {
      const answer = await api(`/v1/calls/${id}/chunks?index=${index}`, { method: "POST", body: chunk, headers: { "content-type": "audio/wav" } });
      if (answer.status !== 202) throw new Error(`chunk upload answered ${answer.status}: ${await answer.text()}`);
    }
    const finished = await api(`/v1/calls/${id}/finish`, { method: "POST" });
    if (finished.status !== 202) throw new Error(`finish answered ${finished.status}: ${await finished.text()}`);
    return id;
  };
