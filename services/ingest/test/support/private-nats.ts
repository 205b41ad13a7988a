import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect } from "@nats-io/transport-node";

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const NATS_SERVER = process.env.CALLFLOW_TEST_NATS_SERVER_BINARY ?? "/usr/sbin/nats-server";

/** A nats-server of the test's own, with JetStream on a temp dir kept across stop() and start(). */
export const startPrivateNats = async () => {
  const port = await freePort();
  const storeDir = await mkdtemp(path.join(tmpdir(), "ingest-nats-"));
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], { stdio: "ignore" });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const probe = await connect({ servers: url, timeout: 500, reconnect: false });
        await probe.close();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`nats-server on ${url} did not start: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGTERM");
    await exited;
  };

  await start();
  return {
    url,
    start,
    stop,
    dispose: async () => {
      await stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
};
