import type { AudioTools } from "./probe-duration.ts";
import { OUTPUT_CHANNELS, OUTPUT_SAMPLE_RATE, type OutputFormat } from "./output-format.ts";
import { runAudioTool } from "./tool-process.ts";

/**
 * Decodes every input and joins them end to end into `output`, one encode. The concat filter (not the
 * concat demuxer) because inputs may differ in codec, rate and channels: each is first resampled to
 * the output's rate and mixed down, so the filter joins like with like (sample formats are left to
 * ffmpeg's negotiation with the encoder).
 */
export async function concatenateAudio(input: {
  tools: AudioTools;
  inputs: readonly string[];
  output: string;
  format: OutputFormat;
  signal?: AbortSignal;
}): Promise<void> {
  const { tools, inputs, output, format } = input;
  const normalize = inputs.map(
    (_, n) => `[${n}:a:0]aresample=${OUTPUT_SAMPLE_RATE},aformat=sample_rates=${OUTPUT_SAMPLE_RATE}:channel_layouts=${OUTPUT_CHANNELS === 1 ? "mono" : "stereo"}[a${n}]`,
  );
  const joined = `${inputs.map((_, n) => `[a${n}]`).join("")}concat=n=${inputs.length}:v=0:a=1[merged]`;
  await runAudioTool(
    tools.ffmpeg,
    [
      "-nostdin", "-v", "error", "-y",
      ...inputs.flatMap((file) => ["-i", file]),
      "-filter_complex", [...normalize, joined].join(";"),
      "-map", "[merged]", "-vn",
      "-ar", String(OUTPUT_SAMPLE_RATE), "-ac", String(OUTPUT_CHANNELS),
      ...format.encoderArgs,
      output,
    ],
    { timeoutMs: tools.timeoutMs, ...(input.signal ? { signal: input.signal } : {}) },
  );
}
