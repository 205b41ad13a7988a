import { createConnection, createServer, type Server, type Socket } from "node:net";
import { freePort } from "./own-nats.ts";

/**
 * A loopback port in front of a real server that refuses connections until `open()` and drops them
 * all on `shut()`: a Postgres (or S3) that is down, comes up, and goes away again, for real clients.
 */
export interface TcpGate {
  readonly port: number;
  /** The target's URL with its host and port replaced by the gate's. */
  url(targetUrl: string): string;
  open(): Promise<void>;
  /** Stops listening and cuts every connection through the gate. */
  shut(): Promise<void>;
  readonly isOpen: boolean;
}

export async function startTcpGate(target: { host: string; port: number }): Promise<TcpGate> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };

  return {
    port,
    get isOpen() {
      return server !== undefined;
    },
    url(targetUrl) {
      const url = new URL(targetUrl);
      url.hostname = "127.0.0.1";
      url.port = String(port);
      return url.toString();
    },
    async open() {
      if (server) return;
      const listening = createServer((client) => {
        const upstream = createConnection(target);
        track(client);
        track(upstream);
        client.on("error", () => upstream.destroy());
        upstream.on("error", () => client.destroy());
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve, reject) => {
        listening.once("error", reject);
        listening.listen(port, "127.0.0.1", () => resolve());
      });
      server = listening;
    },
    async shut() {
      const closing = server;
      server = undefined;
      if (!closing) return;
      const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
