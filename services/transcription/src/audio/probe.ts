import { stat } from "node:fs/promises";
import { runTool } from "./run-tool.ts";

export interface ProbedAudio {
  durationSeconds: number;
  sizeBytes: number;
  /** The container format ffprobe recognised, e.g. "mp3", "wav", "ogg". */
  formatName: string;
}

export interface AudioTools {
  ffmpeg: string;
  ffprobe: string;
  timeoutMs: number;
}

/** Throws when the file is not audio ffprobe can read: the caller treats that as unsupported audio. */
export async function probeAudio(tools: AudioTools, path: string, signal?: AbortSignal): Promise<ProbedAudio> {
  const out = await runTool(
    tools.ffprobe,
    ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_type:format=duration,format_name", "-of", "json", path],
    { timeoutMs: tools.timeoutMs, ...(signal ? { signal } : {}) },
  );
  const parsed = JSON.parse(out) as { streams?: { codec_type?: string }[]; format?: { duration?: string; format_name?: string } };
  const duration = Number(parsed.format?.duration);
  if (!parsed.streams?.some((s) => s.codec_type === "audio") || !Number.isFinite(duration)) {
    throw new Error(`${path} has no audio stream with a duration`);
  }
  return { durationSeconds: duration, sizeBytes: (await stat(path)).size, formatName: parsed.format?.format_name ?? "unknown" };
}
