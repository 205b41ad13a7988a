import path from "node:path";
import { probeAudio, segmentAudio, type AudioTools, type ProbedAudio } from "@callflow/media";
import type { ProviderLimits } from "../speech-to-text/port.ts";
import { RetryableError } from "@callflow/messaging";

export interface SplitPart {
  path: string;
  durationSeconds: number;
  sizeBytes: number;
  /** Seconds from the start of the original. */
  offsetSeconds: number;
}

/** The parts did not verify: the original stays as it is (invariant 8). */
export class SplitVerificationError extends RetryableError {
  override readonly name = "SplitVerificationError";
  constructor(message: string) {
    // Another attempt may split cleanly.
    super(message, { code: "split_verification_failed" });
  }
}

/** Whether audio this size and length must be split for a provider. */
export const exceedsLimits = (audio: { sizeBytes: number; durationSeconds: number }, limits: ProviderLimits): boolean =>
  (limits.maxBytes !== undefined && audio.sizeBytes > limits.maxBytes) ||
  (limits.maxDurationSeconds !== undefined && audio.durationSeconds > limits.maxDurationSeconds);

/**
 * Seconds per part so each stays under the limits with room to spare: bitrate varies along a file
 * and a stream-copied cut lands on the next frame boundary, not on the exact second.
 */
export const partSeconds = (audio: { sizeBytes: number; durationSeconds: number }, limits: ProviderLimits, margin = 0.9): number => {
  const byDuration = limits.maxDurationSeconds ?? Number.POSITIVE_INFINITY;
  const bytesPerSecond = audio.sizeBytes / Math.max(audio.durationSeconds, 0.001);
  const byBytes = limits.maxBytes === undefined ? Number.POSITIVE_INFINITY : limits.maxBytes / bytesPerSecond;
  return Math.max(1, Math.floor(Math.min(byDuration, byBytes) * margin));
};

/**
 * Splits `file` into parts of `partSeconds` (stream copy, so no quality loss and little CPU), then
 * probes every part. The parts must each be within the limits and their durations must add up to the
 * original's; otherwise SplitVerificationError. Offsets are the sum of the probed durations before
 * each part, so transcript times follow the audio actually sent.
 */
export async function splitAudio(input: {
  tools: AudioTools;
  file: { path: string } & Pick<ProbedAudio, "durationSeconds" | "sizeBytes" | "formatName">;
  limits: ProviderLimits;
  outDir: string;
  extension: string;
  signal?: AbortSignal;
  /** Allowed difference between the parts' total and the original, in seconds. */
  toleranceSeconds?: number;
}): Promise<SplitPart[]> {
  const { tools, file, limits, outDir, extension, signal } = input;
  const seconds = partSeconds(file, limits);
  const paths = await segmentAudio({ tools, input: file.path, seconds, outDir, extension, signal });
  if (paths.length < 2) throw new SplitVerificationError(`ffmpeg made ${paths.length} part(s) of ${file.durationSeconds} s at ${seconds} s each`);

  const parts: SplitPart[] = [];
  let offset = 0;
  for (const partPath of paths) {
    const probed = await probeAudio(tools, partPath, signal);
    if (exceedsLimits(probed, limits)) {
      throw new SplitVerificationError(`${path.basename(partPath)} is still over the limit (${probed.sizeBytes} bytes, ${probed.durationSeconds.toFixed(1)} s)`);
    }
    parts.push({ path: partPath, durationSeconds: probed.durationSeconds, sizeBytes: probed.sizeBytes, offsetSeconds: offset });
    offset += probed.durationSeconds;
  }
  const tolerance = input.toleranceSeconds ?? Math.max(0.5, file.durationSeconds * 0.002);
  if (Math.abs(offset - file.durationSeconds) > tolerance) {
    throw new SplitVerificationError(`parts add up to ${offset.toFixed(3)} s, the original is ${file.durationSeconds.toFixed(3)} s`);
  }
  return parts;
}
