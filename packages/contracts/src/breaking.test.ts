import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const buf = resolve(import.meta.dirname, "../node_modules/.bin/buf");
const proto = resolve(import.meta.dirname, "../../../proto");

describe("buf breaking", () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  async function changedCopy(edit: (source: string) => string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "callflow-proto-"));
    dirs.push(dir);
    await cp(proto, dir, { recursive: true });
    const file = join(dir, "callflow/events/v1/events.proto");
    await writeFile(file, edit(await readFile(file, "utf8")));
    return dir;
  }

  it("fails when a field of an event is renumbered", async () => {
    const changed = await changedCopy((s) => s.replace("uint32 chunk_index = 4;", "uint32 chunk_index = 14;"));
    const result = await run(buf, ["breaking", changed, "--against", proto]).then(
      () => ({ failed: false, output: "" }),
      (error: { stdout: string }) => ({ failed: true, output: error.stdout }),
    );
    expect(result.failed).toBe(true);
    expect(result.output).toMatch(/chunk_index/);
  });

  it("accepts a new field added with a fresh number", async () => {
    const changed = await changedCopy((s) => s.replace("message CallCompleted {\n  string tenant_id = 1;", "message CallCompleted {\n  string tenant_id = 1;\n  string note = 9;"));
    await expect(run(buf, ["breaking", changed, "--against", proto])).resolves.toBeDefined();
  });
});
