import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * What a fake provider does with the next request to one of its routes. Unscripted requests are
 * answered normally; scripted ones take the next reply from the route's queue.
 */
export type ScriptedReply =
  /** Answer normally. */
  | { kind: "ok" }
  /** An HTTP error in the provider's own error format, with Retry-After (seconds) when given. */
  | { kind: "error"; status: number; message?: string; retryAfterSeconds?: number }
  /** Accept the connection and never answer: the client's deadline must cut it. */
  | { kind: "hang" };

export class ReplyScript<Route extends string> {
  private readonly queues = new Map<Route, ScriptedReply[]>();

  /** Queues replies for the next requests to `route`, in order. */
  push(route: Route, ...replies: ScriptedReply[]): void {
    this.queues.set(route, [...(this.queues.get(route) ?? []), ...replies]);
  }

  next(route: Route): ScriptedReply {
    return this.queues.get(route)?.shift() ?? { kind: "ok" };
  }
}

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

export const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

/** Starts `handler` on a free local port; close() also ends hanging requests. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: `fake provider failed: ${error instanceof Error ? error.message : String(error)}` });
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
