import { spawn } from "node:child_process";
import { Readable } from "node:stream";
import { MediaToolError, type MediaToolFailure } from "./media-tool-error.ts";

export interface MediaToolLimits {
  /** Past this the process is killed (SIGKILL) and the run fails as `timed_out`. */
  timeoutMs: number;
  /** Aborting kills the process; the run fails as `cancelled`. */
  signal?: AbortSignal | undefined;
}

export interface RunningMediaTool {
  /** What the tool writes to stdout, for output streamed on (ffmpeg writing to pipe:1). */
  stdout: Readable;
  /** Resolves when the tool exits 0; rejects with a MediaToolError otherwise. */
  done: Promise<void>;
}

const STDERR_TAIL_CHARS = 4_096;

/** The last lines of stderr, for the message: ffmpeg prints its reason last. */
const lastLines = (text: string): string => text.trim().split("\n").slice(-3).join(" / ");

function launch(tool: string, args: readonly string[], limits: MediaToolLimits, onOutput?: () => void): RunningMediaTool {
  if (limits.signal?.aborted) {
    return { stdout: Readable.from([]), done: Promise.reject(new MediaToolError({ tool, failure: "cancelled", message: `${tool} not started: cancelled` })) };
  }
  const child = spawn(tool, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderrTail = "";
  let timedOut = false;
  const kill = () => child.kill("SIGKILL");
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, limits.timeoutMs);
  limits.signal?.addEventListener("abort", kill, { once: true });
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
    onOutput?.();
  });

  const done = new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: MediaToolError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener("abort", kill);
      if (error) reject(error);
      else resolve();
    };
    child.once("error", (error) => settle(new MediaToolError({ tool, failure: "not_started", message: `${tool} could not be started: ${error.message}`, cause: error })));
    child.once("close", (exitCode, exitSignal) => {
      if (exitCode === 0) return settle();
      const failure: MediaToolFailure = timedOut ? "timed_out" : limits.signal?.aborted ? "cancelled" : "rejected";
      const why = failure === "timed_out" ? `ran longer than ${limits.timeoutMs} ms` : failure === "cancelled" ? "was cancelled" : `failed (${exitCode === null ? exitSignal : `exit ${exitCode}`})`;
      const detail = lastLines(stderrTail);
      settle(new MediaToolError({ tool, failure, message: `${tool} ${why}${detail ? `: ${detail}` : ""}`, exitCode, exitSignal, stderrTail }));
    });
  });
  return { stdout: child.stdout, done };
}

/**
 * Starts a media tool whose stdout the caller streams on. The caller must read `stdout` (or destroy
 * it) and await `done`: a tool blocked on a full pipe runs into its time limit.
 */
export const startMediaTool = (tool: string, args: readonly string[], limits: MediaToolLimits): RunningMediaTool => launch(tool, args, limits);

/**
 * One run of ffmpeg, ffprobe, sox or another media tool, bounded by a time limit and the caller's
 * signal; resolves with its stdout (ffprobe's JSON, a recogniser's text). `onOutput` is called on
 * every write to stdout or stderr, so a long run can keep its heartbeat fresh.
 */
export async function runMediaTool(tool: string, args: readonly string[], limits: MediaToolLimits & { onOutput?: () => void }): Promise<string> {
  const run = launch(tool, args, limits, limits.onOutput);
  const stdout: Buffer[] = [];
  run.stdout.on("data", (data: Buffer) => {
    stdout.push(data);
    limits.onOutput?.();
  });
  await run.done;
  return Buffer.concat(stdout).toString("utf8");
}
