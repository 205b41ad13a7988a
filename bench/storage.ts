// Uploads a generated 200 MiB stream through the ObjectStore to an embedded s3rver running in a
// child process, and reports the uploader's peak resident memory and throughput next to a plain
// fs write of the same stream. Run: npx tsx bench/storage.ts
//
// Where the uploader's memory goes (measured on Node 20):
// - before any upload, ~110 MiB: node itself ~40, tsx's loader thread ~40, AWS SDK and our code ~30;
// - the upload adds 75–95 MiB whatever the object size: 2 parts in flight and one being assembled
//   (8 MiB each), and the garbage V8 lets accumulate before it collects the 8 MiB part buffers that
//   lib-storage allocates for every part.
import { fork } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import {
  createObjectStore,
  createS3Client,
  DEFAULT_UPLOAD_TUNING,
  EMBEDDED_S3_CREDENTIALS,
  type ListingApi,
} from "../packages/storage/src/index.ts";
import { pseudoRandomStream } from "../packages/storage/src/testing/pseudo-random-stream.ts";

const MiB = 1024 * 1024;
// Larger sizes show the peak does not grow with the object: BENCH_STORAGE_MIB=1024 npx tsx bench/storage.ts
const SIZE = Number(process.env.BENCH_STORAGE_MIB ?? 200) * MiB;
const BUCKET = "bench-audio";
const TARGET_PEAK_RSS_MIB = 150;

const startServerProcess = async () => {
  const child = fork(fileURLToPath(new URL("./storage-server.ts", import.meta.url)), [BUCKET], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await new Promise<{ endpoint: string; listingApi: ListingApi }>((resolve, reject) => {
    child.once("message", (message) => resolve(message as { endpoint: string; listingApi: ListingApi }));
    child.once("exit", (code) => reject(new Error(`the S3 server process exited with ${code} before it was ready`)));
  });
  const stop = async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.disconnect();
    await exited;
  };
  return { ...ready, stop };
};

/** Highest RSS seen while `work` runs, sampled every 20 ms, and the kernel's own peak afterwards. */
const measured = async <T>(work: () => Promise<T>) => {
  let sampledPeak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  try {
    const result = await work();
    const seconds = (performance.now() - started) / 1000;
    sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
    return { result, seconds, sampledPeak, maxRss: process.resourceUsage().maxRSS * 1024 };
  } finally {
    clearInterval(sampler);
  }
};

const mib = (bytes: number) => (bytes / MiB).toFixed(1);

const server = await startServerProcess();
const client = createS3Client({ endpoint: server.endpoint, region: "us-east-1", credentials: EMBEDDED_S3_CREDENTIALS });
try {
  const store = createObjectStore({ client, bucket: BUCKET, endpoint: server.endpoint, listingApi: server.listingApi });
  await store.ensureBucket();
  const rssBefore = process.memoryUsage().rss;

  const upload = await measured(() => store.putStream("bench/generated.bin", pseudoRandomStream("bench", SIZE)));
  const head = await store.head("bench/generated.bin");
  if (upload.result.size !== SIZE || head?.size !== SIZE) {
    throw new Error(`uploaded ${upload.result.size} bytes, server holds ${head?.size}, expected ${SIZE}`);
  }

  const directory = await mkdtemp(join(tmpdir(), "callflow-bench-"));
  const fsWrite = await measured(() =>
    pipeline(pseudoRandomStream("bench", SIZE), createWriteStream(join(directory, "generated.bin"))),
  ).finally(() => rm(directory, { recursive: true, force: true }));

  const uploadRate = SIZE / MiB / upload.seconds;
  const fsRate = SIZE / MiB / fsWrite.seconds;
  const peak = Math.max(upload.sampledPeak, upload.maxRss);
  const { partSizeBytes, queueSize } = DEFAULT_UPLOAD_TUNING;
  console.log(`storage bench: ${mib(SIZE)} MiB generated stream, ${mib(partSizeBytes)} MiB parts, ${queueSize} in flight, s3rver in a child process`);
  console.log(`  uploader RSS before upload    ${mib(rssBefore)} MiB`);
  console.log(`  uploader peak RSS             ${mib(peak)} MiB (sampled ${mib(upload.sampledPeak)}, maxRSS ${mib(upload.maxRss)}) — target < ${TARGET_PEAK_RSS_MIB} MiB: ${peak < TARGET_PEAK_RSS_MIB * MiB ? "met" : "MISSED"}`);
  console.log(`  added by the upload           ${mib(peak - rssBefore)} MiB`);
  console.log(`  putStream to s3rver           ${uploadRate.toFixed(1)} MiB/s (${upload.seconds.toFixed(2)} s)`);
  console.log(`  fs write baseline             ${fsRate.toFixed(1)} MiB/s (${fsWrite.seconds.toFixed(2)} s)`);
  console.log(`  upload / fs ratio             ${(uploadRate / fsRate).toFixed(2)}`);
} finally {
  client.destroy();
  await server.stop();
}
