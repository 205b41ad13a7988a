import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runMediaTool } from "@callflow/media";

/** Realistic test speech: festival's HTS voice, resampled to 16 kHz mono (ENVIRONMENT.md). */
export async function synthesizeSpeech(text: string, options: { dir?: string; name?: string } = {}): Promise<string> {
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), "callflow-speech-")));
  const raw = path.join(dir, `${options.name ?? "speech"}-raw.wav`);
  const out = path.join(dir, `${options.name ?? "speech"}.wav`);
  const { spawn } = await import("node:child_process");
  await new Promise<void>((resolve, reject) => {
    const child = spawn("text2wave", ["-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", raw], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`text2wave exited with ${code}: ${stderr}`))));
    child.stdin.end(text);
  });
  await runMediaTool("sox", [raw, "-r", "16000", "-c", "1", "-b", "16", out], { timeoutMs: 30_000 });
  return out;
}

/** A call of several turns: each spoken as synthesizeSpeech does, half a second of silence after each. */
export async function synthesizeTurns(turns: readonly string[], options: { dir?: string } = {}): Promise<string> {
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), "callflow-speech-")));
  const files: string[] = [];
  for (const [n, turn] of turns.entries()) {
    const spoken = await synthesizeSpeech(turn, { dir, name: `turn-${n}` });
    const padded = path.join(dir, `turn-${n}-padded.wav`);
    await runMediaTool("sox", [spoken, padded, "pad", "0", "0.5"], { timeoutMs: 30_000 });
    files.push(padded);
  }
  const call = path.join(dir, "call.wav");
  await runMediaTool("sox", [...files, call], { timeoutMs: 30_000 });
  return call;
}
