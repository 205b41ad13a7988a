import { writeFile } from "node:fs/promises";
import path from "node:path";
import { classifyError, PermanentError, RetryableError } from "@callflow/messaging";
import { describe, expect, it } from "vitest";
import { scratchDir, slowFfmpegArgs } from "../test/fixtures.ts";
import { MediaToolError } from "./media-tool-error.ts";
import { runMediaTool } from "./run-media-tool.ts";

const failureOf = async (run: Promise<unknown>): Promise<MediaToolError> => {
  const error = await run.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(MediaToolError);
  return error as MediaToolError;
};

describe("runMediaTool", () => {
  it("resolves with what the tool printed on stdout, calling onOutput as it writes", async () => {
    let writes = 0;
    const out = await runMediaTool("ffprobe", ["-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-show_entries", "stream=sample_rate", "-of", "csv=p=0"], {
      timeoutMs: 30_000,
      onOutput: () => writes++,
    });
    expect(out.trim()).toBe("8000");
    expect(writes).toBeGreaterThan(0);
  });

  it("kills a run that passes its time limit and fails it as timed out, which a retry may fix", async () => {
    const started = Date.now();
    const error = await failureOf(runMediaTool("ffmpeg", slowFfmpegArgs, { timeoutMs: 300 }));
    expect(error).toMatchObject({ tool: "ffmpeg", failure: "timed_out", timedOut: true, rejectedInput: false, exitCode: null, exitSignal: "SIGKILL" });
    expect(error.message).toBe("ffmpeg ran longer than 300 ms");
    // 'close' comes only after the process exited: it was killed, not left running for its minute.
    expect(Date.now() - started).toBeLessThan(10_000);
    const outcome = error.toOutcomeError();
    expect(outcome).toBeInstanceOf(RetryableError);
    expect(classifyError(outcome)).toMatchObject({ kind: "retry", code: "media_tool_timeout" });
  });

  it("kills a run when its signal aborts and fails it as cancelled", async () => {
    const started = Date.now();
    const error = await failureOf(runMediaTool("ffmpeg", slowFfmpegArgs, { timeoutMs: 60_000, signal: AbortSignal.timeout(200) }));
    expect(error).toMatchObject({ failure: "cancelled", timedOut: false, exitSignal: "SIGKILL" });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(classifyError(error.toOutcomeError())).toMatchObject({ kind: "retry", code: "aborted" });
  });

  it("starts nothing when the signal is already aborted", async () => {
    const error = await failureOf(runMediaTool("ffmpeg", slowFfmpegArgs, { timeoutMs: 60_000, signal: AbortSignal.abort() }));
    expect(error).toMatchObject({ failure: "cancelled", exitCode: null, exitSignal: null, message: "ffmpeg not started: cancelled" });
  });

  it("reports a tool that refused its input as a rejection with the end of its stderr: permanent, a dead letter", async () => {
    const corrupt = path.join(await scratchDir(), "corrupt.wav");
    await writeFile(corrupt, "RIFF....WAVE this is not audio at all");
    const error = await failureOf(runMediaTool("ffmpeg", ["-nostdin", "-v", "error", "-i", corrupt, "-f", "null", "-"], { timeoutMs: 30_000 }));
    expect(error).toMatchObject({ tool: "ffmpeg", failure: "rejected", rejectedInput: true, timedOut: false, exitSignal: null });
    expect(error.exitCode).not.toBe(0);
    expect(error.stderrTail).toMatch(/Invalid data found when processing input/);
    expect(error.message).toMatch(/^ffmpeg failed \(exit \d+\): .*Invalid data found when processing input/);

    const outcome = error.toOutcomeError({ context: "decoding chunk 3" });
    expect(outcome).toBeInstanceOf(PermanentError);
    expect(outcome.message).toMatch(/^decoding chunk 3: ffmpeg failed/);
    expect(classifyError(outcome)).toMatchObject({ kind: "dead", code: "unsupported_audio" });
    expect(classifyError(error.toOutcomeError({ codes: { rejected: "merge_input_unreadable" } }))).toMatchObject({ kind: "dead", code: "merge_input_unreadable" });
  });

  it("reports a tool that is not installed as not started, which another worker may not share", async () => {
    const error = await failureOf(runMediaTool("/nonexistent/ffmpeg", ["-version"], { timeoutMs: 30_000 }));
    expect(error).toMatchObject({ tool: "/nonexistent/ffmpeg", failure: "not_started", rejectedInput: false, exitCode: null });
    expect(error.message).toMatch(/^\/nonexistent\/ffmpeg could not be started: .*ENOENT/);
    expect(classifyError(error.toOutcomeError())).toMatchObject({ kind: "retry", code: "media_tool_unavailable" });
  });

  it("keeps only the last 4 KiB of a long stderr, and its last lines in the message", async () => {
    const script = 'i=0; while [ $i -lt 2000 ]; do echo "warning $i" >&2; i=$((i+1)); done; exit 3';
    const error = await failureOf(runMediaTool("sh", ["-c", script], { timeoutMs: 30_000 }));
    expect(error).toMatchObject({ failure: "rejected", exitCode: 3 });
    expect(error.stderrTail).toHaveLength(4_096);
    expect(error.stderrTail.endsWith("warning 1999\n")).toBe(true);
    expect(error.message).toBe("sh failed (exit 3): warning 1997 / warning 1998 / warning 1999");
  });
});
