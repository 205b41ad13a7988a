import { appendFileSync, mkdirSync } from "node:fs";
import { dirname, relative } from "node:path";
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from "vitest/node";

/**
 * Makes a failed test run explain itself in its last lines: which files and tests failed and with
 * what error, the errors vitest recorded outside any test, and — the case that once cost a landing —
 * a non-zero exit with every test green, and whether the exit code was set during the run or after it.
 * The same lines go to `CALLFLOW_FAILURE_SUMMARY` (default test-results/failure-summary.txt) so
 * `.ci/run` can repeat them after everything else has printed.
 */
export default class TestSummaryReporter implements Reporter {
  private readonly summaryFile = process.env.CALLFLOW_FAILURE_SUMMARY ?? "test-results/failure-summary.txt";
  private readonly lines: string[] = [];
  private exitCodeAtRunEnd: number | string | undefined;
  private runEnded = false;
  private runPassed = false;
  /** A fatal error of vitest's main process; its own printout may never reach a piped log (see onExit). */
  private fatal: string | undefined;

  constructor() {
    process.once("exit", (code) => this.onExit(code));
    process.on("uncaughtExceptionMonitor", (error, origin) => {
      this.fatal ??= `${origin}: ${describe(error)}`;
    });
    process.on("unhandledRejection", this.onUnhandledRejection);
  }

  private readonly onUnhandledRejection = (reason: unknown): void => {
    this.fatal ??= `unhandledRejection: ${describe(reason)}`;
    // Alone once vitest has removed its own handler: fail as Node's default would, never swallow it.
    if (process.listenerCount("unhandledRejection") === 1) {
      process.off("unhandledRejection", this.onUnhandledRejection);
      throw reason;
    }
  };

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    for (const module of modules) {
      if (module.ok()) continue;
      const file = relative(process.cwd(), module.moduleId);
      for (const error of module.errors()) this.lines.push(`${file}: ${firstLine(error.message)}`);
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state !== "failed") continue;
        this.lines.push(`${file} > ${test.fullName}: ${firstLine(result.errors?.[0]?.message ?? "failed")}`);
      }
      if (module.state() !== "failed" && module.errors().length === 0) this.lines.push(`${file}: ${module.state()}`);
    }
    for (const error of unhandledErrors) this.lines.push(`error outside any test (${error.name ?? "Error"}): ${firstLine(error.message)}`);
    if (reason === "interrupted") this.lines.push("the run was interrupted");
    this.runEnded = true;
    this.exitCodeAtRunEnd = process.exitCode ?? undefined;
    this.runPassed = reason === "passed" && unhandledErrors.length === 0;
    if (this.lines.length > 0) this.print("vitest: the run failed");
  }

  onProcessTimeout(): void {
    this.lines.push("vitest could not close within teardownTimeout: a handle (server, socket, timer, child process) was left open");
  }

  private onExit(code: number): void {
    if (code === 0 || (this.runEnded && !this.runPassed)) return;
    this.lines.push(this.runEnded ? `vitest exits with code ${code} although every test passed` : `vitest exits with code ${code} before the run ended`);
    if (this.fatal) this.lines.push(`vitest's main process failed with ${this.fatal}`);
    else
      this.lines.push(
        this.exitCodeAtRunEnd
          ? `process.exitCode was already ${String(this.exitCodeAtRunEnd)} when the run ended: set in the main process during the run`
          : "process.exitCode was set after the run ended: in teardown (a global setup's teardown, a reporter, vitest closing)",
      );
    const queued = process.stdout.writableLength + process.stderr.writableLength;
    if (queued > 0) this.lines.push(`${queued} bytes of vitest's output were still queued at exit and never reached a piped log: read test-results/vitest.log`);
    this.print("vitest: non-zero exit");
  }

  private print(title: string): void {
    const block = [`── ${title} ──`, ...this.lines.map((line) => `  ${line}`)].join("\n");
    process.stderr.write(`\n${block}\n`);
    try {
      mkdirSync(dirname(this.summaryFile), { recursive: true });
      appendFileSync(this.summaryFile, `${block}\n`);
    } catch {
      // The printed block is what matters; the file is a convenience for .ci/run.
    }
    this.lines.length = 0;
  }
}

const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const frame = error.stack?.split("\n").find((line) => line.trim().startsWith("at "))?.trim();
  return `${error.name}: ${firstLine(error.message)}${frame ? ` (${frame})` : ""}`;
};

const firstLine = (text: string | undefined): string => (text ?? "").split("\n").find((line) => line.trim() !== "")?.trim() ?? "";

