import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { freePort, waitFor } from "@callflow/testkit";

export const PROMETHEUS = process.env.CALLFLOW_PROMETHEUS_BIN ?? "prometheus";
export const PROMTOOL = process.env.CALLFLOW_PROMTOOL_BIN ?? "promtool";

/** Fails with what to install when Debian's prometheus package is missing: never a skip. */
export const assertInstalled = (binary: string): void => {
  const probe = spawnSync(binary, ["--version"], { encoding: "utf8" });
  if (probe.error) throw new Error(`${binary} is not installed: run scripts/bootstrap.sh (apt-get install --no-install-recommends prometheus)`);
};

export interface ScrapeTarget {
  /** The scrape job; Callflow's jobs have "callflow" in their name (the ServiceDown alert selects on it). */
  job: string;
  /** Base URL of the target; /metrics is scraped. */
  url: string;
}

export interface PrometheusSample {
  metric: Record<string, string>;
  value: [number, string];
}

export type QueryAnswer = { ok: true; resultType: string; result: PrometheusSample[] } | { ok: false; errorType: string; error: string };

export interface RunningPrometheus {
  readonly url: string;
  query(expr: string): Promise<QueryAnswer>;
  /** Scrape targets by job, with their health and last error. */
  targets(): Promise<{ job: string; health: string; lastError: string }[]>;
  close(): Promise<void>;
}

/**
 * A real Prometheus (Debian's package) on a free port with its own config and data directory,
 * scraping `targets` every `scrapeInterval` and evaluating `ruleFiles`.
 */
export async function startPrometheus(options: { targets: readonly ScrapeTarget[]; ruleFiles?: readonly string[]; scrapeInterval?: string }): Promise<RunningPrometheus> {
  assertInstalled(PROMETHEUS);
  const dir = await mkdtemp(path.join(tmpdir(), "callflow-prometheus-"));
  const interval = options.scrapeInterval ?? "1s";
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: [...(options.ruleFiles ?? [])],
    scrape_configs: options.targets.map((target) => {
      const url = new URL(target.url);
      return { job_name: target.job, metrics_path: "/metrics", scheme: url.protocol.replace(":", ""), static_configs: [{ targets: [url.host] }] };
    }),
  };
  await writeFile(path.join(dir, "prometheus.yml"), stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr?.on("data", (data: Buffer) => (output = (output + data.toString()).slice(-4_000)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));

  const close = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      "Prometheus to be ready",
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${output}`);
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (error) {
    await close();
    throw error;
  }

  return {
    url,
    query: async (expr) => {
      const answer = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      const body = (await answer.json()) as { status: string; data?: { resultType: string; result: PrometheusSample[] }; errorType?: string; error?: string };
      return body.status === "success" && body.data ? { ok: true, ...body.data } : { ok: false, errorType: body.errorType ?? String(answer.status), error: body.error ?? "" };
    },
    targets: async () => {
      const body = (await (await fetch(`${url}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] } };
      return body.data.activeTargets.map((target) => ({ job: target.labels.job, health: target.health, lastError: target.lastError }));
    },
    close,
  };
}
