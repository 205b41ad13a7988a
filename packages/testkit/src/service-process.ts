import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "./wait.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** The process's output so far, for a failing test's message. */
  output(): string;
}

/**
 * Runs a service as a process of its own: `services/<name>/src/main.ts` under tsx, or with `built`
 * its bundle `dist/main.mjs` under plain node, as `start:built` runs it in production.
 */
export function spawnService(name: string, env: Record<string, string>, options: { built?: boolean } = {}): ServiceProcess {
  const args = options.built ? [`services/${name}/dist/main.mjs`] : ["--import", "tsx", `services/${name}/src/main.ts`];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...(options.built ? { MALLOC_ARENA_MAX: "2" } : {}), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (data: Buffer) => {
    output = (output + data.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return { name, child, output: () => output };
}

/** SIGTERM, then the exit: a service that does not stop within the deadline is killed. */
export async function stopService(service: ServiceProcess, timeoutMs = 30_000): Promise<number | null> {
  if (service.child.exitCode !== null) return service.child.exitCode;
  const exited = new Promise<number | null>((resolve) => service.child.once("exit", (code) => resolve(code)));
  service.child.kill("SIGTERM");
  const timer = setTimeout(() => service.child.kill("SIGKILL"), timeoutMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `url` answers 200, failing early with the process's output if it exits. */
export async function waitReady(service: ServiceProcess, url: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${service.name} ready at ${url}`,
    async () => {
      if (service.child.exitCode !== null) throw new Error(`${service.name} exited with ${service.child.exitCode}:\n${service.output()}`);
      const response = await fetch(url).catch(() => undefined);
      return response?.status === 200;
    },
    { timeoutMs, intervalMs: 200 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- ${service.name} output ---\n${service.output()}`);
  });
}
