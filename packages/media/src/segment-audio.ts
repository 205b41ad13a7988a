import { readdir } from "node:fs/promises";
import path from "node:path";
import type { AudioTools } from "./audio-tools.ts";
import { runMediaTool } from "./run-media-tool.ts";

/**
 * Cuts `input` into consecutive parts of about `seconds` each with ffmpeg's segment muxer, into
 * `outDir` as `part-0000.<extension>`…, and returns their paths in order. Stream copy: no re-encoding,
 * so no quality loss and little CPU, and a cut lands on the next packet boundary rather than on the
 * exact second. The parts are not verified here; probe them before relying on them.
 */
export async function segmentAudio(input: {
  tools: Pick<AudioTools, "ffmpeg" | "timeoutMs">;
  input: string;
  seconds: number;
  outDir: string;
  extension: string;
  signal?: AbortSignal;
}): Promise<string[]> {
  const { tools, outDir, extension } = input;
  await runMediaTool(
    tools.ffmpeg,
    ["-nostdin", "-v", "error", "-y", "-i", input.input, "-map", "0:a:0", "-c", "copy", "-f", "segment", "-segment_time", String(input.seconds), "-reset_timestamps", "1", path.join(outDir, `part-%04d.${extension}`)],
    { timeoutMs: tools.timeoutMs, signal: input.signal },
  );
  const names = (await readdir(outDir)).filter((name) => name.startsWith("part-") && name.endsWith(`.${extension}`)).sort();
  return names.map((name) => path.join(outDir, name));
}
