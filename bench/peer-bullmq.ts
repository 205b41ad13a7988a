// Callflow against the queue a team would build instead (a BullMQ flow over Redis, bench/lib/bullmq-side.ts),
// on this machine, in alternating rounds under the same offered load: N recorder calls × 5 one-second chunks,
// transcribed by the same local OpenAI-compatible server, merged with ffmpeg, summarized, completed.
// Each round starts each side afresh (own database, own storage, own queues) and runs it alone.
//   throughput (default): BENCH_PEER_UPLOADERS (4) uploaders send calls back to back; calls/s, chunks/s, p50/p99.
//   latency (BENCH_PEER_MODE=latency): one call opened per second; end-to-end p50/p99 alone.
// Run: pnpm --filter @callflow/bench bench:peer   (BENCH_PEER_ROUNDS=3, BENCH_PEER_CALLS=40, BENCH_PEER_MODE)
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeOpenAi } from "../packages/testkit/src/providers/fake-openai.ts";
import { startBullmqSide } from "./lib/bullmq-side.ts";
import { startCallflowSide, type BenchSide } from "./lib/callflow-side.ts";
import { loadAverage, median, offerRecorderLoad, oneSecondChunk, quantile, type OfferedLoad } from "./lib/recorder-load.ts";

const MODE = process.env.BENCH_PEER_MODE === "latency" ? "latency" : "throughput";
const ROUNDS = Number(process.env.BENCH_PEER_ROUNDS ?? 3);
const CALLS = Number(process.env.BENCH_PEER_CALLS ?? 40);
const CHUNKS = 5;
const UPLOADERS = Number(process.env.BENCH_PEER_UPLOADERS ?? 4);
const load: OfferedLoad = MODE === "latency" ? { kind: "rate", callsPerSecond: 1 } : { kind: "uploaders", uploaders: UPLOADERS };

type SideName = "Callflow" | "BullMQ";
const sides: Record<SideName, (providerUrl: string) => Promise<BenchSide>> = { Callflow: startCallflowSide, BullMQ: startBullmqSide };

interface Row {
  round: number;
  side: SideName;
  callsPerSecond: number;
  chunksPerSecond: number;
  p50: number;
  p99: number;
  failed: number;
  load: string;
}

const columns = (cells: (string | number)[]) => cells.map((cell, i) => String(cell)[i < 2 ? "padEnd" : "padStart"](i === 0 ? 5 : 10)).join("  ");
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : "-");

// Warnings of both sides go to a file, so the table is all a person reads here.
process.env.CALLFLOW_LOG_FILE ??= join(tmpdir(), `callflow-bench-peer-${process.pid}.log`);
const provider = await startFakeOpenAi();
const chunk = await oneSecondChunk();
const offered = load.kind === "rate" ? `${load.callsPerSecond} call/s offered` : `${load.uploaders} uploaders`;
console.log(`logs: ${process.env.CALLFLOW_LOG_FILE}`);
console.log(`peer bench (${MODE}): ${CALLS} calls × ${CHUNKS} chunks of 1 s, ${offered}, ${ROUNDS} rounds, instant transcription, ${loadAverage()} (2 cores)`);
console.log(columns(["round", "side", "calls/s", "chunks/s", "p50 ms", "p99 ms", "failed", "load (1m)"]));

/** Starts the side afresh, offers it the load, stops it. */
const offerTo = async (name: SideName, options: Parameters<typeof offerRecorderLoad>[2]) => {
  const side = await sides[name](provider.baseURL);
  try {
    return await offerRecorderLoad(side.db, side.upload, options);
  } finally {
    await side.stop();
  }
};

const rows: Row[] = [];
try {
  // One unmeasured call per side first: the first call through a side loads and compiles its code
  // (Callflow's stack, BullMQ's workers, the functions both share), which would weigh on whichever side
  // runs first in round 1.
  for (const name of ["Callflow", "BullMQ"] as const) await offerTo(name, { calls: 3, chunks: CHUNKS, chunk, load: { kind: "uploaders", uploaders: 1 } });
  console.log("(warm-up: 3 calls through each side, not counted)");
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate who goes first, so a load spike or a warm cache does not always favour the same side.
    const order: SideName[] = round % 2 === 1 ? ["Callflow", "BullMQ"] : ["BullMQ", "Callflow"];
    for (const name of order) {
      const result = await offerTo(name, { calls: CALLS, chunks: CHUNKS, chunk, load });
      const row: Row = {
        round,
        side: name,
        callsPerSecond: CALLS / result.seconds,
        chunksPerSecond: (CALLS * CHUNKS) / result.seconds,
        p50: quantile(result.endToEnd, 0.5),
        p99: quantile(result.endToEnd, 0.99),
        failed: result.failed,
        load: loadAverage().split(" ")[1]!,
      };
      rows.push(row);
      console.log(columns([round, name, fixed(row.callsPerSecond, 2), fixed(row.chunksPerSecond, 1), fixed(row.p50, 0), fixed(row.p99, 0), row.failed, row.load]));
    }
  }

  const of = (round: number, side: SideName) => rows.find((row) => row.round === round && row.side === side)!;
  const rounds = [...new Set(rows.map((row) => row.round))];
  const throughputRatios = rounds.map((round) => of(round, "Callflow").chunksPerSecond / of(round, "BullMQ").chunksPerSecond);
  const latencyRatios = rounds.map((round) => of(round, "Callflow").p50 / of(round, "BullMQ").p50);
  console.log("");
  console.log(`Callflow / BullMQ per round   chunks/s ${throughputRatios.map((r) => r.toFixed(2)).join(", ")}   p50 ${latencyRatios.map((r) => r.toFixed(2)).join(", ")}`);
  console.log(`median of rounds              chunks/s ${median(throughputRatios).toFixed(2)}×   p50 ${median(latencyRatios).toFixed(2)}× (below 1: Callflow answers sooner)`);
  for (const side of ["Callflow", "BullMQ"] as const) {
    const mine = rows.filter((row) => row.side === side);
    console.log(`${side.padEnd(9)} median      ${median(mine.map((row) => row.chunksPerSecond)).toFixed(1)} chunks/s, p50 ${median(mine.map((row) => row.p50)).toFixed(0)} ms, p99 ${median(mine.map((row) => row.p99)).toFixed(0)} ms`);
  }
} finally {
  await provider.close();
}
