import { trimAudio, type TrimmedAudio } from "@callflow/media";

/** Cuts a section out of a recording; the port trim uses. */
export interface AudioTrimmer {
  trim(url: string, range: { startSeconds: number; endSeconds: number }): TrimmedAudio;
}

export const ffmpegTrimmer = (options: { ffmpegPath: string; timeoutMs: number }): AudioTrimmer => ({
  trim: (url, range) => trimAudio({ ffmpeg: options.ffmpegPath, timeoutMs: options.timeoutMs }, url, range),
});
