import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import { runMediaTool } from "../src/run-media-tool.ts";

export const tools = { ffmpeg: "ffmpeg", ffprobe: "ffprobe", timeoutMs: 30_000 };

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A directory of the test's own, removed after it. */
export async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "callflow-media-"));
  dirs.push(dir);
  return dir;
}

/** `seconds` of a 440 Hz tone made by sox, mono 16-bit, as WAV or (through ffmpeg) another container. */
export async function tone(dir: string, name: string, audio: { seconds: number; rate?: number; extension?: "wav" | "mp3" | "ogg" }): Promise<string> {
  const wav = path.join(dir, `${name}.wav`);
  await runMediaTool("sox", ["-n", "-r", String(audio.rate ?? 16_000), "-c", "1", "-b", "16", wav, "synth", String(audio.seconds), "sine", "440"], { timeoutMs: 30_000 });
  if (!audio.extension || audio.extension === "wav") return wav;
  const file = path.join(dir, `${name}.${audio.extension}`);
  await runMediaTool("ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", wav, file], { timeoutMs: 30_000 });
  return file;
}

/** An ffmpeg run that would take a minute of wall-clock time but next to no CPU (-re: read at real time). */
export const slowFfmpegArgs = ["-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "60", "-f", "null", "-"];
