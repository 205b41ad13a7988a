import { spawn } from "node:child_process";

export class ToolError extends Error {
  override readonly name = "ToolError";
  constructor(
    readonly tool: string,
    message: string,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

/**
 * Runs an external tool (ffmpeg, ffprobe, pocketsphinx) with a time limit and cancellation; resolves
 * with its stdout. Stderr is kept, bounded, for the error message.
 */
export function runTool(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; signal?: AbortSignal; onOutput?: () => void },
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new ToolError(command, `${command} was cancelled before it started`));
      return;
    }
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    let stderr = "";
    let timedOut = false;
    const kill = () => child.kill("SIGKILL");
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    options.signal?.addEventListener("abort", kill, { once: true });
    child.stdout.on("data", (data: Buffer) => {
      stdout.push(data);
      options.onOutput?.();
    });
    child.stderr.on("data", (data: Buffer) => {
      if (stderr.length < 8_192) stderr += data.toString("utf8");
      options.onOutput?.();
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new ToolError(command, `${command} could not start: ${error.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", kill);
      if (code === 0) return resolve(Buffer.concat(stdout).toString("utf8"));
      const why = timedOut ? `timed out after ${options.timeoutMs} ms` : options.signal?.aborted ? "was cancelled" : `exited with ${code ?? signal}`;
      reject(new ToolError(command, `${command} ${why}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`.slice(0, 2_000), timedOut));
    });
  });
}
