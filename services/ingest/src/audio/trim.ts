import { spawn } from "node:child_process";
import type { Readable } from "node:stream";

export interface TrimmedAudio {
  /** The cut, as Ogg FLAC: lossless, and its duration is readable from the stream alone. */
  output: Readable;
  /** Resolves when ffmpeg exited cleanly; rejects with its last error lines otherwise. */
  done: Promise<void>;
}

/** Cuts a section out of a recording; the port trim uses, implemented with ffmpeg. */
export interface AudioTrimmer {
  trim(url: string, range: { startSeconds: number; endSeconds: number }): TrimmedAudio;
}

export const ffmpegTrimmer = (options: { ffmpegPath: string; timeoutMs: number }): AudioTrimmer => ({
  trim(url, { startSeconds, endSeconds }) {
    const child = spawn(
      options.ffmpegPath,
      ["-nostdin", "-v", "error", "-ss", String(startSeconds), "-i", url, "-t", String(endSeconds - startSeconds), "-vn", "-map", "0:a:0", "-c:a", "flac", "-f", "ogg", "pipe:1"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr = (stderr + text).slice(-2_000);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    const done = new Promise<void>((resolve, reject) => {
      child.once("error", (error) => reject(new Error(`ffmpeg could not run at "${options.ffmpegPath}": ${error.message}`)));
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(signal === "SIGKILL" ? `ffmpeg did not finish within ${options.timeoutMs} ms` : `ffmpeg exited with ${code}: ${stderr.trim()}`));
      });
    });
    return { output: child.stdout, done };
  },
});
