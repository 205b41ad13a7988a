import type { Readable } from "node:stream";
import type { AudioTools } from "./audio-tools.ts";
import { startMediaTool } from "./run-media-tool.ts";

export interface TrimmedAudio {
  /** The cut, as Ogg FLAC: lossless, and its duration is readable from the stream alone. */
  output: Readable;
  /** Resolves when ffmpeg exited cleanly; rejects with a MediaToolError otherwise. */
  done: Promise<void>;
}

/** [startSeconds, endSeconds) of a recording (a path or a URL), streamed as ffmpeg writes it. */
export function trimAudio(
  tools: Pick<AudioTools, "ffmpeg" | "timeoutMs">,
  input: string | URL,
  range: { startSeconds: number; endSeconds: number },
  signal?: AbortSignal,
): TrimmedAudio {
  const { startSeconds, endSeconds } = range;
  const run = startMediaTool(
    tools.ffmpeg,
    ["-nostdin", "-v", "error", "-ss", String(startSeconds), "-i", input instanceof URL ? input.href : input, "-t", String(endSeconds - startSeconds), "-vn", "-map", "0:a:0", "-c:a", "flac", "-f", "ogg", "pipe:1"],
    { timeoutMs: tools.timeoutMs, signal },
  );
  return { output: run.stdout, done: run.done };
}
