import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** Each named check: `true` when healthy, `false` or a reason when not. */
export type ReadinessChecks = Record<string, boolean | string>;

export interface OpsServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default "0.0.0.0", so the kubelet and Prometheus reach it. */
  host?: string;
  registry: Registry;
  readiness: () => Promise<ReadinessChecks>;
  /** A readiness check that has not answered by then counts as failing; default 2000 ms. */
  readinessTimeoutMs?: number;
  /**
   * The port is the public API's, held while start-up waits: any other path answers 503 `starting`
   * with Retry-After and what start-up waits for (from the readiness checks), not a refused connection.
   */
  holdsApiPort?: boolean;
}

export interface OpsServer {
  /** Base URL reachable from this host, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
};

const withDeadline = async <T>(work: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`readiness checks did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
};

const answerReadiness = async (res: ServerResponse, options: OpsServerOptions): Promise<void> => {
  let checks: ReadinessChecks;
  try {
    checks = await withDeadline(options.readiness(), options.readinessTimeoutMs ?? 2_000);
  } catch (error) {
    sendJson(res, 503, { status: "not_ready", failing: ["readiness"], error: error instanceof Error ? error.message : String(error) });
    return;
  }
  const failing = Object.entries(checks).filter(([, ok]) => ok !== true).map(([name]) => name);
  if (failing.length === 0) sendJson(res, 200, { status: "ready", checks });
  else sendJson(res, 503, { status: "not_ready", failing, checks });
};

const route = async (req: IncomingMessage, res: ServerResponse, options: OpsServerOptions): Promise<void> => {
  const path = new URL(req.url ?? "/", "http://ops").pathname;
  if (req.method !== "GET" && req.method !== "HEAD" && !options.holdsApiPort) {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  switch (path) {
    case "/healthz":
      sendJson(res, 200, { status: "ok" });
      return;
    case "/readyz":
      await answerReadiness(res, options);
      return;
    case "/metrics": {
      const body = await options.registry.metrics();
      res.writeHead(200, { "content-type": options.registry.contentType });
      res.end(body);
      return;
    }
    default:
      if (options.holdsApiPort) await answerStarting(res, options);
      else sendJson(res, 404, { error: { code: "not_found", message: `no ops endpoint ${path}` } });
  }
};

const answerStarting = async (res: ServerResponse, options: OpsServerOptions): Promise<void> => {
  const checks = await withDeadline(options.readiness(), options.readinessTimeoutMs ?? 2_000).catch((): ReadinessChecks => ({}));
  const waitingFor = Object.values(checks).find((check): check is string => typeof check === "string") ?? "start-up";
  res.writeHead(503, { "content-type": "application/json; charset=utf-8", "retry-after": "5" });
  res.end(JSON.stringify({ error: { code: "starting", message: `Callflow is starting: ${waitingFor}` } }));
};

/** A base URL this host can reach a listening server at (a wildcard address becomes loopback). */
export const reachableUrl = (address: AddressInfo): string => {
  const host = address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "::1" : address.address;
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
};

/** Serves /metrics, /healthz and /readyz on their own port, apart from a service's public API. */
export const serveOps = async (options: OpsServerOptions): Promise<OpsServer> => {
  const server = createServer((req, res) => {
    route(req, res, options).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: "internal", message: error instanceof Error ? error.message : String(error) } });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  return {
    url: reachableUrl(address),
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Probe and scrape connections are keep-alive; without this close() waits for them to idle out.
        server.closeAllConnections();
      }),
  };
};
