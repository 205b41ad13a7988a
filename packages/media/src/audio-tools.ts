/** The ffmpeg and ffprobe a service runs (paths, or names on PATH) and the longest one run may take. */
export interface AudioTools {
  readonly ffmpeg: string;
  readonly ffprobe: string;
  readonly timeoutMs: number;
}
