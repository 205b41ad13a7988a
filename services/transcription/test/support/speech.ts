import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runMediaTool, speak } from "@callflow/media";

/** Realistic test speech: festival's HTS voice, resampled to 16 kHz mono (ENVIRONMENT.md). */
export async function synthesizeSpeech(text: string, options: { dir?: string; name?: string } = {}): Promise<string> {
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), "callflow-speech-")));
  const out = path.join(dir, `${options.name ?? "speech"}.wav`);
  await speak(text, out, { timeoutMs: 30_000 });
  return out;
}

/** A call of several turns, each followed by half a second of silence, as one 16 kHz WAV. */
export async function synthesizeTurns(turns: readonly string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "callflow-speech-"));
  const files: string[] = [];
  for (const [n, turn] of turns.entries()) {
    const file = path.join(dir, `turn-${n}.wav`);
    await speak(turn, file, { pauseAfterSeconds: 0.5, timeoutMs: 30_000 });
    files.push(file);
  }
  const call = path.join(dir, "call.wav");
  await runMediaTool("sox", [...files, call], { timeoutMs: 30_000 });
  return call;
}
