import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface StartupResponder {
  /** The port it holds, which the API then listens on (so a configured port 0 stays one port). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Holds the API port while ingest waits for Postgres, object storage and NATS: /healthz answers (the
 * process is alive, so no liveness probe restarts it), /readyz and every other route answer 503
 * with Retry-After and what start-up is waiting for, instead of a refused connection.
 */
export async function startStartupResponder(options: { host: string; port: number; phase: () => string }): Promise<StartupResponder> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const phase = options.phase();
    const [status, body] =
      path === "/healthz"
        ? [200, { status: "ok" }]
        : path === "/readyz"
          ? [503, { status: "not_ready", failing: ["startup"], checks: { startup: phase } }]
          : [503, { error: { code: "starting", message: `Callflow is starting: ${phase}` } }];
    response.writeHead(status, { "content-type": "application/json", ...(status === 503 ? { "retry-after": "5" } : {}) });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
