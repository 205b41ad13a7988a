import { spawn } from "node:child_process";

/**
 * ffmpeg or ffprobe did not finish well. Only `rejected` (the tool ran and refused) says something
 * about the input; a tool that could not start, ran out of time or was cancelled says nothing about it.
 */
export type AudioToolFailure = "rejected" | "not_started" | "timed_out" | "cancelled";

export class AudioToolError extends Error {
  override readonly name = "AudioToolError";
  constructor(
    message: string,
    readonly failure: AudioToolFailure,
  ) {
    super(message);
  }
}

const STDERR_LIMIT = 4_096;

/**
 * One run of an audio tool, bounded by a deadline and the caller's signal. Resolves with stdout
 * (ffprobe's JSON is small); only the tail of stderr is kept, because that is where ffmpeg says why.
 */
export function runAudioTool(binary: string, args: readonly string[], limits: { timeoutMs: number; signal?: AbortSignal }): Promise<string> {
  return new Promise((resolve, reject) => {
    if (limits.signal?.aborted) return reject(new AudioToolError(`${binary} not started: cancelled`, "cancelled"));
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let errTail = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, limits.timeoutMs);
    const onAbort = () => child.kill("SIGKILL");
    limits.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (data: Buffer) => out.push(data));
    child.stderr.on("data", (data: Buffer) => {
      errTail = (errTail + data.toString("utf8")).slice(-STDERR_LIMIT);
    });
    const settle = () => {
      clearTimeout(timer);
      limits.signal?.removeEventListener("abort", onAbort);
    };
    child.once("error", (error) => {
      settle();
      reject(new AudioToolError(`${binary} could not be started: ${error.message}`, "not_started"));
    });
    child.once("close", (code, signal) => {
      settle();
      if (code === 0) return resolve(Buffer.concat(out).toString("utf8"));
      const failure: AudioToolFailure = timedOut ? "timed_out" : limits.signal?.aborted ? "cancelled" : "rejected";
      const cause = { timed_out: `ran longer than ${limits.timeoutMs} ms`, cancelled: "was cancelled", rejected: `failed (${code ?? signal})`, not_started: "" }[failure];
      const detail = errTail.trim().split("\n").slice(-2).join(" / ");
      reject(new AudioToolError(`${binary} ${cause}${detail ? `: ${detail}` : ""}`, failure));
    });
  });
}
