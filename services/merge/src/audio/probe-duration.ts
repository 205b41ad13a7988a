import { runAudioTool } from "./tool-process.ts";

export interface AudioTools {
  readonly ffmpeg: string;
  readonly ffprobe: string;
  /** Longest any one ffmpeg or ffprobe run may take. */
  readonly timeoutMs: number;
}

/** ffprobe read the file but found no audio it can time: the input is unusable, not the tool. */
export class UnreadableAudioError extends Error {
  override readonly name = "UnreadableAudioError";
}

/**
 * Seconds of audio in `file`, from the first audio stream's duration or, failing that, the
 * container's (WAV and FLAC report only one of the two, depending on the muxer).
 */
export async function probeDuration(tools: AudioTools, file: string, signal?: AbortSignal): Promise<{ durationSeconds: number; codec: string }> {
  const json = await runAudioTool(
    tools.ffprobe,
    ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name,duration:format=duration", "-of", "json", file],
    { timeoutMs: tools.timeoutMs, ...(signal ? { signal } : {}) },
  );
  const parsed = JSON.parse(json) as { streams?: { codec_name?: string; duration?: string }[]; format?: { duration?: string } };
  const stream = parsed.streams?.[0];
  if (!stream) throw new UnreadableAudioError("no audio stream");
  const duration = [stream.duration, parsed.format?.duration].map(Number).find((value) => Number.isFinite(value) && value > 0);
  if (duration === undefined) throw new UnreadableAudioError("audio stream has no duration");
  return { durationSeconds: duration, codec: stream.codec_name ?? "unknown" };
}
