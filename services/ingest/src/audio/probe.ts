import { MediaToolError, probeAudio, type ProbedRemoteAudio } from "@callflow/media";

/** Reads an audio object's duration; the port upload validation and trim use. */
export interface AudioProbe {
  /** Null when the input is not readable audio with a duration. Throws only when ffprobe could not run. */
  probe(url: string): Promise<ProbedRemoteAudio | null>;
}

/**
 * The shared ffprobe over a presigned GET. Unreadable audio is the upload's fault (a 400); a missing,
 * hung or cancelled ffprobe is ours and throws.
 */
export const ffprobeAudio = (options: { ffprobePath: string; timeoutMs: number }): AudioProbe => ({
  async probe(url) {
    try {
      return await probeAudio({ ffprobe: options.ffprobePath, timeoutMs: options.timeoutMs }, new URL(url));
    } catch (error) {
      if (error instanceof MediaToolError && error.rejectedInput) return null;
      throw error;
    }
  },
});
