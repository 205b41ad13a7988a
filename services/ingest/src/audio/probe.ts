import { execFile } from "node:child_process";

export interface ProbeResult {
  durationSeconds: number;
  /** ffprobe's container name list, e.g. "wav" or "mov,mp4,m4a,3gp,3g2,mj2". */
  formatName: string;
  codec: string | undefined;
}

/** Reads an audio object's duration; the port upload validation and trim use. */
export interface AudioProbe {
  /** Null when the input is not readable audio with a duration. Throws only when ffprobe could not run. */
  probe(url: string): Promise<ProbeResult | null>;
}

interface FfprobeOutput {
  format?: { duration?: string; format_name?: string };
  streams?: { codec_type?: string; codec_name?: string; duration?: string }[];
}

const run = (binary: string, args: string[], timeoutMs: number): Promise<{ stdout: string; failed: boolean }> =>
  new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: "SIGKILL" }, (error, stdout) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error(`ffprobe not found at "${binary}" (install ffmpeg or set CALLFLOW_FFPROBE_PATH)`));
        return;
      }
      if (error && error.killed) {
        reject(new Error(`ffprobe did not finish within ${timeoutMs} ms`));
        return;
      }
      resolve({ stdout, failed: error !== null });
    });
  });

const positive = (value: string | undefined): number | undefined => {
  const parsed = value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
};

/**
 * ffprobe over a URL (a presigned GET): it reads the header and seeks with Range requests instead
 * of downloading the object. Containers without a duration in their header (WebM from browsers'
 * MediaRecorder) fall back to the last packet's end time, which reads the packets but decodes nothing.
 */
export const ffprobeAudio = (options: { ffprobePath: string; timeoutMs: number }): AudioProbe => ({
  async probe(url) {
    const { stdout, failed } = await run(
      options.ffprobePath,
      ["-v", "error", "-print_format", "json", "-show_entries", "format=duration,format_name:stream=codec_type,codec_name,duration", url],
      options.timeoutMs,
    );
    if (failed) return null;
    let parsed: FfprobeOutput;
    try {
      parsed = JSON.parse(stdout) as FfprobeOutput;
    } catch {
      return null;
    }
    const audio = parsed.streams?.find((stream) => stream.codec_type === "audio");
    if (!audio || !parsed.format?.format_name) return null;
    const duration =
      positive(parsed.format.duration) ?? positive(audio.duration) ?? (await lastPacketEnd(options, url));
    if (duration === undefined) return null;
    return { durationSeconds: duration, formatName: parsed.format.format_name, codec: audio.codec_name };
  },
});

const lastPacketEnd = async (options: { ffprobePath: string; timeoutMs: number }, url: string): Promise<number | undefined> => {
  const { stdout, failed } = await run(
    options.ffprobePath,
    ["-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", url],
    options.timeoutMs,
  );
  if (failed) return undefined;
  let end: number | undefined;
  for (const line of stdout.split("\n")) {
    const [pts, duration] = line.split(",").map(Number);
    if (pts !== undefined && Number.isFinite(pts)) end = Math.max(end ?? 0, pts + (Number.isFinite(duration) ? duration! : 0));
  }
  return end !== undefined && end > 0 ? end : undefined;
};
