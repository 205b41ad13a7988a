import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = path.dirname(fileURLToPath(import.meta.url));
const INPUTS = ["index.html", "vite.config.ts", "package.json", "build.ts", "src"];

const filesUnder = async (entry: string): Promise<string[]> => {
  const full = path.join(root, entry);
  if (!(await stat(full)).isDirectory()) return [entry];
  const found = await readdir(full, { recursive: true, withFileTypes: true });
  return found.filter((file) => file.isFile()).map((file) => path.relative(root, path.join(file.parentPath, file.name)));
};

/** A digest of everything the build reads from this package. */
const sourceDigest = async (): Promise<string> => {
  const hash = createHash("sha256");
  const files = (await Promise.all(INPUTS.map(filesUnder))).flat().sort();
  for (const file of files) hash.update(file).update("\0").update(await readFile(path.join(root, file))).update("\0");
  return hash.digest("hex").slice(0, 16);
};

/**
 * The console built from the sources in the tree, for the browser tests and the bench: built once per
 * version of the sources into the system's temp folder and reused by every test file and run after.
 * Returns the folder to serve (ingest's CALLFLOW_INGEST_CONSOLE_DIR).
 */
export const builtConsole = async (): Promise<string> => {
  const target = path.join(tmpdir(), `callflow-console-${await sourceDigest()}`);
  if (await stat(path.join(target, "index.html")).then(() => true, () => false)) return target;
  const staging = `${target}.building-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    // `pnpm build`'s build, in a process of its own: a test runner's NODE_ENV=test would give React's development build.
    await promisify(execFile)(process.execPath, [path.join(root, "node_modules/vite/bin/vite.js"), "build", "--outDir", staging, "--emptyOutDir", "--logLevel", "warn"], {
      cwd: root,
      env: { ...process.env, NODE_ENV: "production" },
      timeout: 120_000,
    });
    // Another process may have built the same sources meanwhile: either copy is the same.
    await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return target;
};
