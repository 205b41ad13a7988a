import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const isolationDir = path.resolve(import.meta.dirname, "../isolation");
const vitest = path.resolve(import.meta.dirname, "../../../node_modules/.bin/vitest");

it("two test files running in parallel cannot see each other's rows, messages or objects", async () => {
  const rendezvous = await mkdtemp(path.join(tmpdir(), "callflow-isolation-"));
  try {
    const { stdout } = await promisify(execFile)(vitest, ["run", "--config", "vitest.config.ts"], {
      cwd: isolationDir,
      env: { ...process.env, CALLFLOW_ISOLATION_DIR: rendezvous, NO_COLOR: "1" },
      timeout: 120_000,
    }).catch((error: { stdout: string; stderr: string }) => {
      throw new Error(`isolation run failed:\n${error.stdout}\n${error.stderr}`);
    });
    expect(stdout).toMatch(/Tests\s+2 passed/);
    // Both files met at the rendezvous, so they ran at the same time, on different databases.
    const marks = (await readdir(rendezvous)).sort();
    expect(marks).toEqual(["A", "B"]);
    const [a, b] = await Promise.all(marks.map((m) => readFile(path.join(rendezvous, m), "utf8")));
    expect(a).not.toBe(b);
  } finally {
    await rm(rendezvous, { recursive: true, force: true });
  }
});
