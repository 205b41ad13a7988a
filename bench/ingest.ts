// Builds the ingest service (scripts/build-service.mjs → services/ingest/dist/main.mjs) and runs the
// bundle with plain node in a child process, as production does; uploads a generated 1 GiB WAV
// stream through POST /v1/calls to it, then loads GET /v1/calls/{id} with autocannon. Prints the
// upload's throughput, the server process's peak resident memory (sampled, and the kernel's VmHWM) and the status endpoint's
// requests/s. Needs the local Postgres and NATS; object storage is an s3rver in another child process
// so that its memory is not counted as the server's. Run: pnpm --filter @callflow/bench bench:ingest
//   BENCH_INGEST_MIB=256 for a quicker run; BENCH_INGEST_STATUS_SECONDS for a longer load test;
//   BENCH_INGEST_SERVER_FLAGS to replace the server's node flags (default: those of `start:built`).
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { createDb, migrateDatabase } from "@callflow/db";
import { topology } from "../packages/contracts/src/index.ts";
import { pseudoRandomStream } from "../packages/storage/src/testing/pseudo-random-stream.ts";
import { createApiKey } from "../services/ingest/src/auth/api-keys.ts";

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_INGEST_MIB ?? 1024) * MiB;
const STATUS_SECONDS = Number(process.env.BENCH_INGEST_STATUS_SECONDS ?? 10);
const TARGET_PEAK_RSS_MIB = 200;
const ADMIN_URL = process.env.CALLFLOW_TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const NATS_URL = process.env.CALLFLOW_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const BUCKET = "bench-ingest";

// autocannon and the JetStream manager are the ingest package's dependencies, not the bench's.
const fromIngest = createRequire(fileURLToPath(new URL("../services/ingest/package.json", import.meta.url)));
const load = async <T>(name: string): Promise<T> => (await import(pathToFileURL(fromIngest.resolve(name)).href)) as T;
interface LoadResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (options: { url: string; connections: number; duration: number; headers: Record<string, string> }) => Promise<LoadResult>;
interface StreamAdmin {
  streams: { delete(name: string): Promise<unknown> };
}
const ingestDir = fileURLToPath(new URL("../services/ingest/", import.meta.url));
const builtServer = path.join(ingestDir, "dist/main.mjs");
// The server runs as `start:built` runs it in production: its environment settings (glibc's
// MALLOC_ARENA_MAX) and node flags, so the bench measures what is deployed.
const productionCommand = (): { env: Record<string, string>; flags: string[] } => {
  const manifest = JSON.parse(readFileSync(path.join(ingestDir, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const words = manifest.scripts["start:built"]!.split(/\s+/);
  const node = words.indexOf("node");
  const env = Object.fromEntries(words.slice(0, node).map((word) => word.split("=") as [string, string]));
  return { env, flags: words.slice(node + 1, words.indexOf("dist/main.mjs")) };
};
const PRODUCTION = productionCommand();
const SERVER_FLAGS = (process.env.BENCH_INGEST_SERVER_FLAGS ?? PRODUCTION.flags.join(" ")).split(" ").filter(Boolean);
execFileSync(process.execPath, [fileURLToPath(new URL("../scripts/build-service.mjs", import.meta.url))], { cwd: ingestDir, stdio: "inherit" });

const autocannon = (await load<{ default: Autocannon }>("autocannon")).default;
const { jetstreamManager } = await load<{ jetstreamManager(nats: unknown): Promise<StreamAdmin> }>("@nats-io/jetstream");

const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const databaseName = `callflow_bench_${suffix}`;
const namespace = `bench_${suffix}`;
const databaseUrl = (() => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${databaseName}`;
  return url.toString();
})();

const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

const wavHeader = (dataBytes: number): Buffer => {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(Math.min(36 + dataBytes, 0xffffffff), 4);
  header.write("WAVEfmt ", 8, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(16_000, 24);
  header.writeUInt32LE(32_000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "latin1");
  header.writeUInt32LE(Math.min(dataBytes, 0xffffffff), 40);
  return header;
};

const startChild = <T>(script: string, args: string[], env: NodeJS.ProcessEnv, ready: (message: unknown) => T | undefined) => {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return { child, ready: new Promise<T>((resolve, reject) => {
    child.on("message", (message) => {
      const value = ready(message);
      if (value !== undefined) resolve(value);
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  }) };
};

/** RSS of another process from /proc: the current value and the kernel's high-water mark. */
const memoryOf = async (pid: number): Promise<{ rss: number; hwm: number }> => {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
};

const stopChild = async (child: ChildProcess, signal: NodeJS.Signals = "SIGTERM") => {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exited;
};

const waitForUrl = async (url: string, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

const mib = (bytes: number) => (bytes / MiB).toFixed(1);

await admin((client) => client.query(`CREATE DATABASE "${databaseName}"`));
const nats = await connect({ servers: NATS_URL });
const jsm = await jetstreamManager(nats);
const topo = topology(namespace);
const s3 = startChild("./storage-server.ts", [BUCKET], {}, (message) => message as { endpoint: string });
let server: ChildProcess | undefined;
const db = createDb(databaseUrl, { poolSize: 1 });
try {
  await migrateDatabase(databaseUrl);
  const tenant = await db.tenant.create({ data: { name: "bench" } });
  const { key } = await createApiKey(db, { tenantId: tenant.id, name: "bench" });
  const { endpoint } = await s3.ready;

  const port = 18_000 + Math.floor(Math.random() * 2_000);
  const baseUrl = `http://127.0.0.1:${port}`;
  server = fork(builtServer, [], {
    cwd: ingestDir,
    execArgv: SERVER_FLAGS,
    env: {
      ...process.env,
      ...PRODUCTION.env,
      CALLFLOW_DATABASE_URL: databaseUrl,
      CALLFLOW_NATS_URL: NATS_URL,
      CALLFLOW_NAMESPACE: namespace,
      CALLFLOW_S3_ENDPOINT: endpoint,
      CALLFLOW_S3_BUCKET: BUCKET,
      CALLFLOW_S3_ACCESS_KEY_ID: "S3RVER",
      CALLFLOW_S3_SECRET_ACCESS_KEY: "S3RVER",
      CALLFLOW_INGEST_HOST: "127.0.0.1",
      CALLFLOW_INGEST_PORT: String(port),
      CALLFLOW_INGEST_RATE_LIMIT_PER_MINUTE: "100000000",
      CALLFLOW_INGEST_MAX_UPLOAD_BYTES: String(SIZE + 1024),
      CALLFLOW_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  // Ready, not just alive: while it starts (object storage, Postgres, NATS) every route answers 503.
  await waitForUrl(`${baseUrl}/readyz`);
  const pid = server.pid!;
  const idle = await memoryOf(pid);

  let peakSampled = idle.rss;
  const sampler = setInterval(() => {
    void memoryOf(pid).then((m) => (peakSampled = Math.max(peakSampled, m.rss)), () => undefined);
  }, 20);
  const started = performance.now();
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const upload = httpRequest(`${baseUrl}/v1/calls`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "audio/wav", "content-length": String(44 + SIZE) },
    });
    upload.once("response", (response) => {
      let text = "";
      response.setEncoding("utf8").on("data", (part: string) => (text += part));
      response.once("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    upload.once("error", reject);
    upload.write(wavHeader(SIZE));
    pseudoRandomStream("bench-ingest", SIZE).pipe(upload);
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const afterUpload = await memoryOf(pid);
  if (status !== 202) throw new Error(`upload answered ${status}: ${body}`);
  const { id } = JSON.parse(body) as { id: string };
  const stored = await db.call.findUniqueOrThrow({ where: { id } });
  if (Number(stored.sizeBytes) !== 44 + SIZE) throw new Error(`the call records ${stored.sizeBytes} bytes, expected ${44 + SIZE}`);

  const result = await autocannon({
    url: `${baseUrl}/v1/calls/${id}`,
    connections: 10,
    duration: STATUS_SECONDS,
    headers: { authorization: `Bearer ${key}` },
  });
  const afterLoad = await memoryOf(pid);
  const peak = Math.max(peakSampled, afterUpload.hwm);

  console.log(`ingest bench: ${mib(SIZE)} MiB generated WAV through POST /v1/calls, built server (${path.relative(process.cwd(), builtServer)}) under ${Object.entries(PRODUCTION.env).map(([k, v]) => `${k}=${v} `).join("")}node ${SERVER_FLAGS.join(" ") || "(no flags)"} in a child process, s3rver in another`);
  console.log(`  upload → 202                  ${(SIZE / MiB / seconds).toFixed(1)} MiB/s (${seconds.toFixed(1)} s, includes ffprobe and the commit)`);
  console.log(`  call duration recorded        ${(stored.durationSeconds ?? 0).toFixed(0)} s of audio, ${stored.sizeBytes} bytes`);
  console.log(`  server RSS idle               ${mib(idle.rss)} MiB`);
  console.log(`  server peak RSS (upload)      ${mib(peak)} MiB (sampled ${mib(peakSampled)}, VmHWM ${mib(afterUpload.hwm)}) — target < ${TARGET_PEAK_RSS_MIB} MiB: ${peak < TARGET_PEAK_RSS_MIB * MiB ? "met" : "MISSED"}`);
  console.log(`  GET /v1/calls/{id}            ${result.requests.average.toFixed(0)} req/s average over ${STATUS_SECONDS} s, 10 connections; latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; non-2xx ${result.non2xx}, errors ${result.errors}`);
  console.log(`  server VmHWM after load       ${mib(afterLoad.hwm)} MiB`);
} finally {
  if (server) await stopChild(server);
  s3.child.disconnect();
  await stopChild(s3.child).catch(() => undefined);
  await db.$disconnect();
  // The server declared its namespace's streams at start.
  for (const name of [topo.stream("calls"), topo.stream("dials"), topo.stream("deadLetters")]) {
    await jsm.streams.delete(name).catch(() => undefined);
  }
  await nats.close();
  await admin((client) => client.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`));
}
