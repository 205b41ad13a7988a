import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { waitFor } from "./wait.ts";

/** A free TCP port on loopback, for a server the test starts and must know the address of first. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no free port"))));
    });
  });

const NATS_SERVER = process.env.CALLFLOW_TEST_NATS_SERVER_BINARY ?? "/usr/sbin/nats-server";

export interface OwnNatsServer {
  url: string;
  /** Starts it (again, on the same port and store directory) and waits until it accepts clients. */
  start(): Promise<void>;
  /** SIGKILLs it, as a crash would, and waits for the process to exit. */
  kill(): Promise<void>;
  /** Kills it and removes its store directory. */
  destroy(): Promise<void>;
}

/** A JetStream nats-server for one test alone, so it can be killed and restarted without touching others. */
export async function startOwnNatsServer(): Promise<OwnNatsServer> {
  const port = await freePort();
  const storeDir = await mkdtemp(path.join(tmpdir(), "callflow-own-nats-"));
  let server: ChildProcess | undefined;

  const start = async () => {
    const child = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], { stdio: ["ignore", "ignore", "pipe"] });
    server = child;
    let output = "";
    child.stderr?.on("data", (data: Buffer) => void (output += data.toString()));
    await waitFor(`nats-server on ${port} to accept clients`, () => {
      if (child.exitCode !== null) throw new Error(`nats-server exited: ${output}`);
      return output.includes("Server is ready");
    });
  };
  const kill = async () => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    start,
    kill,
    destroy: async () => {
      await kill();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}
