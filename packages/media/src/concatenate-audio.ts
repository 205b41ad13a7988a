import type { AudioTools } from "./audio-tools.ts";
import { runMediaTool } from "./run-media-tool.ts";

/** What the joined file is encoded as. */
export interface AudioEncoding {
  sampleRateHz: number;
  channels: 1 | 2;
  /** ffmpeg's codec and container options, e.g. `["-c:a", "flac", "-f", "flac"]`. */
  encoderArgs: readonly string[];
}

/**
 * Decodes every input and joins them end to end into `output`, one encode. The concat filter (not the
 * concat demuxer) because inputs may differ in codec, rate and channels: each is first resampled to
 * the output's rate and mixed to its channels, so the filter joins like with like (sample formats are
 * left to ffmpeg's negotiation with the encoder).
 */
export async function concatenateAudio(input: {
  tools: Pick<AudioTools, "ffmpeg" | "timeoutMs">;
  inputs: readonly string[];
  output: string;
  encoding: AudioEncoding;
  signal?: AbortSignal;
}): Promise<void> {
  const { tools, inputs, output, encoding } = input;
  const layout = encoding.channels === 1 ? "mono" : "stereo";
  const normalize = inputs.map((_, n) => `[${n}:a:0]aresample=${encoding.sampleRateHz},aformat=sample_rates=${encoding.sampleRateHz}:channel_layouts=${layout}[a${n}]`);
  const joined = `${inputs.map((_, n) => `[a${n}]`).join("")}concat=n=${inputs.length}:v=0:a=1[merged]`;
  await runMediaTool(
    tools.ffmpeg,
    [
      "-nostdin", "-v", "error", "-y",
      ...inputs.flatMap((file) => ["-i", file]),
      "-filter_complex", [...normalize, joined].join(";"),
      "-map", "[merged]", "-vn",
      "-ar", String(encoding.sampleRateHz), "-ac", String(encoding.channels),
      ...encoding.encoderArgs,
      output,
    ],
    { timeoutMs: tools.timeoutMs, signal: input.signal },
  );
}
