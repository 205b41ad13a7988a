import { open, stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { AudioTools } from "./audio-tools.ts";
import { MediaToolError } from "./media-tool-error.ts";
import { runMediaTool, startMediaTool, type MediaToolLimits } from "./run-media-tool.ts";
import { readWavHeader, WAV_HEADER_BYTES } from "./wav-header.ts";

/** What ffprobe reads from a recording at a URL: its container and its first audio stream. */
export interface ProbedRemoteAudio {
  durationSeconds: number;
  /** ffprobe's container name list, e.g. "wav" or "mov,mp4,m4a,3gp,3g2,mj2". */
  formatName: string;
  /** e.g. "pcm_s16le", "mp3", "opus"; undefined when ffprobe cannot name it. */
  codec: string | undefined;
  sampleRateHz: number | undefined;
  channels: number | undefined;
}

/** A local file probed: the same, and its size (providers' limits are in bytes as well as seconds). */
export interface ProbedAudio extends ProbedRemoteAudio {
  sizeBytes: number;
}

type Ffprobe = Pick<AudioTools, "ffprobe" | "timeoutMs">;

interface FfprobeOutput {
  format?: { duration?: string; format_name?: string };
  streams?: { codec_name?: string; sample_rate?: string; channels?: number; duration?: string }[];
}

const positive = (value: string | number | undefined): number | undefined => {
  const parsed = value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
};

/**
 * ffprobe over a local file (a path) or a URL (a presigned GET: ffprobe reads the header and seeks
 * with Range requests instead of downloading the object). The duration is the container's, else the
 * stream's (WAV and FLAC muxers write only one of the two); containers with neither in their header
 * (WebM from browsers' MediaRecorder) fall back to the last packet's end, which reads the packets but
 * decodes nothing. Throws a MediaToolError, `rejected` when the input is not audio with a duration.
 */
export async function probeAudio(tools: Ffprobe, input: string, signal?: AbortSignal): Promise<ProbedAudio>;
export async function probeAudio(tools: Ffprobe, input: URL, signal?: AbortSignal): Promise<ProbedRemoteAudio>;
export async function probeAudio(tools: Ffprobe, input: string | URL, signal?: AbortSignal): Promise<ProbedRemoteAudio | ProbedAudio> {
  const target = input instanceof URL ? input.href : input;
  const limits: MediaToolLimits = { timeoutMs: tools.timeoutMs, signal };
  const json = await runMediaTool(
    tools.ffprobe,
    ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name,sample_rate,channels,duration:format=duration,format_name", "-of", "json", target],
    limits,
  );
  const unreadable = (why: string) => new MediaToolError({ tool: tools.ffprobe, failure: "rejected", message: `${tools.ffprobe} read the input but ${why}`, exitCode: 0 });
  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(json) as FfprobeOutput;
  } catch {
    throw unreadable("printed no JSON");
  }
  const stream = parsed.streams?.[0];
  if (!stream) throw unreadable("found no audio stream");
  if (!parsed.format?.format_name) throw unreadable("found no container format");
  const durationSeconds = positive(parsed.format.duration) ?? positive(stream.duration) ?? (await lastPacketEnd(tools, target, limits));
  if (durationSeconds === undefined) throw unreadable("found no duration for the audio");
  const probed: ProbedRemoteAudio = {
    durationSeconds,
    formatName: parsed.format.format_name,
    codec: stream.codec_name,
    sampleRateHz: positive(stream.sample_rate),
    channels: positive(stream.channels),
  };
  return input instanceof URL ? probed : { ...probed, sizeBytes: (await stat(input)).size };
}

/**
 * probeAudio for a local file, reading a plain WAV (PCM or G.711, a codec ffprobe would name) from
 * its header: the same answer ffprobe gives, without starting a process, which costs a large Node
 * process tens of milliseconds of its own CPU. Anything else goes to ffprobe. Where a missing ffprobe
 * must show early (a merge verifying its output with it), call probeAudio.
 */
export async function probeAudioFile(tools: Ffprobe, file: string, signal?: AbortSignal): Promise<ProbedAudio> {
  return (await readLocalWav(file)) ?? (await probeAudio(tools, file, signal));
}

async function readLocalWav(file: string): Promise<ProbedAudio | undefined> {
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(Math.min(size, WAV_HEADER_BYTES)), position: 0 });
    const header = readWavHeader(buffer.subarray(0, bytesRead), size);
    if (!header?.codec) return undefined;
    return { durationSeconds: header.durationSeconds, formatName: "wav", codec: header.codec, sampleRateHz: header.sampleRateHz, channels: header.channels, sizeBytes: size };
  } finally {
    await handle.close();
  }
}

async function lastPacketEnd(tools: Ffprobe, target: string, limits: MediaToolLimits): Promise<number | undefined> {
  const run = startMediaTool(tools.ffprobe, ["-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", target], limits);
  const [end] = await Promise.all([packetsEnd(run.stdout), run.done]);
  return end;
}

/** Read line by line: an hour of 20 ms packets is megabytes of text, and only the maximum matters. */
async function packetsEnd(csv: Readable): Promise<number | undefined> {
  let end: number | undefined;
  for await (const line of createInterface({ input: csv, crlfDelay: Number.POSITIVE_INFINITY })) {
    const [pts, duration] = line.split(",").map(Number);
    if (pts !== undefined && Number.isFinite(pts)) end = Math.max(end ?? 0, pts + (duration !== undefined && Number.isFinite(duration) ? duration : 0));
  }
  return end !== undefined && end > 0 ? end : undefined;
}
