// Uploads a generated 200 MiB stream through the ObjectStore to an embedded s3rver, and reports the
// uploader's peak resident memory and throughput next to a plain fs write of the same stream.
// Run: npx tsx bench/storage.ts
//
// Three processes: this one (under tsx) only orchestrates; s3rver runs in one child, and the upload in
// another that runs plain JavaScript, this file bundled with esbuild (the copy tsx runs on). The figure
// is then the uploader's own footprint, as a built service has it, rather than the dev loader's: tsx's
// loader thread and transpile caches added ~25 MiB before any upload (108 MiB under tsx, 83 plain).
//
// Where the uploader's memory goes (measured on Node 20, plain node, 5 MiB parts, 2 in flight):
// - before any upload, ~66 MiB: node itself, the AWS SDK and our code (s3rver, which the storage
//   package used to load on import, another ~17 MiB, is now loaded only by startEmbeddedS3);
// - the upload adds ~60–75 MiB whatever the object size: 2 parts in flight and one being assembled
//   (lib-storage gathers a part's chunks, then concatenates them into one more buffer), and the part
//   buffers V8 has not collected yet: they live outside the JS heap, so the collector runs for them
//   only as their total grows, and how many are waiting is what varies between runs.
import { fork, type ChildProcess } from "node:child_process";
import { createWriteStream, realpathSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
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
// The tuning under test; default the store's own. BENCH_PART_MIB=8 BENCH_QUEUE=2 compares another.
const TUNING = {
  partSizeBytes: process.env.BENCH_PART_MIB ? Number(process.env.BENCH_PART_MIB) * MiB : DEFAULT_UPLOAD_TUNING.partSizeBytes,
  queueSize: process.env.BENCH_QUEUE ? Number(process.env.BENCH_QUEUE) : DEFAULT_UPLOAD_TUNING.queueSize,
};
const UPLOADER_ROLE = "--uploader";

interface ServerReady {
  endpoint: string;
  listingApi: ListingApi;
}

interface UploaderReport {
  rssBefore: number;
  peak: number;
  sampledPeak: number;
  maxRss: number;
  uploadSeconds: number;
  fsSeconds: number;
}

const mib = (bytes: number) => (bytes / MiB).toFixed(1);

/** Resolves with the child's first IPC message; rejects if it exits first. */
const firstMessage = <T>(child: ChildProcess, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    child.once("message", (message) => resolve(message as T));
    child.once("exit", (code) => reject(new Error(`the ${what} process exited with ${code} before it reported`)));
  });

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

/** The measured process: uploads, then writes the same stream to a file, and reports both. */
const runUploader = async ({ endpoint, listingApi }: ServerReady): Promise<UploaderReport> => {
  const client = createS3Client({ endpoint, region: "us-east-1", credentials: EMBEDDED_S3_CREDENTIALS });
  try {
    const store = createObjectStore({ client, bucket: BUCKET, endpoint, listingApi, upload: TUNING });
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

    return {
      rssBefore,
      peak: Math.max(upload.sampledPeak, upload.maxRss),
      sampledPeak: upload.sampledPeak,
      maxRss: upload.maxRss,
      uploadSeconds: upload.seconds,
      fsSeconds: fsWrite.seconds,
    };
  } finally {
    client.destroy();
  }
};

/** This file as one plain-JavaScript module, built with the esbuild that tsx depends on. */
const bundleUploader = async (directory: string): Promise<string> => {
  // Not a dependency of the bench itself, so typed here by the one call it makes.
  const esbuild = createRequire(realpathSync(fileURLToPath(import.meta.resolve("tsx/package.json"))))("esbuild") as {
    build(options: Record<string, unknown>): Promise<unknown>;
  };
  const outfile = join(directory, "storage-uploader.mjs");
  await esbuild.build({
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    // The SDK's CommonJS modules require Node built-ins, which an ES module bundle must provide.
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  });
  return outfile;
};

const orchestrate = async () => {
  const server = fork(fileURLToPath(new URL("./storage-server.ts", import.meta.url)), [BUCKET], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const stopServer = async () => {
    if (server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.disconnect();
    await exited;
  };
  const directory = await mkdtemp(join(tmpdir(), "callflow-bench-uploader-"));
  try {
    const [ready, uploaderFile] = await Promise.all([firstMessage<ServerReady>(server, "S3 server"), bundleUploader(directory)]);
    const uploader = fork(uploaderFile, [UPLOADER_ROLE, JSON.stringify(ready)], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const report = await firstMessage<UploaderReport | { error: string }>(uploader, "uploader");
    if ("error" in report) throw new Error(`uploader failed: ${report.error}`);

    const uploadRate = SIZE / MiB / report.uploadSeconds;
    const fsRate = SIZE / MiB / report.fsSeconds;
    const { partSizeBytes, queueSize } = TUNING;
    console.log(`storage bench: ${mib(SIZE)} MiB generated stream, ${mib(partSizeBytes)} MiB parts, ${queueSize} in flight, s3rver in a child process, uploader in another (plain node)`);
    console.log(`  uploader RSS before upload    ${mib(report.rssBefore)} MiB`);
    console.log(`  uploader peak RSS             ${mib(report.peak)} MiB (sampled ${mib(report.sampledPeak)}, maxRSS ${mib(report.maxRss)}) — target < ${TARGET_PEAK_RSS_MIB} MiB: ${report.peak < TARGET_PEAK_RSS_MIB * MiB ? "met" : "MISSED"}`);
    console.log(`  added by the upload           ${mib(report.peak - report.rssBefore)} MiB`);
    console.log(`  putStream to s3rver           ${uploadRate.toFixed(1)} MiB/s (${report.uploadSeconds.toFixed(2)} s)`);
    console.log(`  fs write baseline             ${fsRate.toFixed(1)} MiB/s (${report.fsSeconds.toFixed(2)} s)`);
    console.log(`  upload / fs ratio             ${(uploadRate / fsRate).toFixed(2)}`);
    process.exitCode = report.peak < TARGET_PEAK_RSS_MIB * MiB ? 0 : 1;
  } finally {
    await rm(directory, { recursive: true, force: true });
    await stopServer();
  }
};

if (process.argv[2] === UPLOADER_ROLE) {
  try {
    process.send?.(await runUploader(JSON.parse(process.argv[3]!) as ServerReady));
  } catch (error) {
    process.send?.({ error: error instanceof Error ? error.stack ?? error.message : String(error) });
  }
  process.disconnect?.();
} else {
  await orchestrate();
}
