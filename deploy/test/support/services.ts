import { readdirSync } from "node:fs";
import { aggregatorConfigFromEnv } from "@callflow/aggregator";
import { ingestConfigFromEnv } from "@callflow/ingest";
import { mergeConfigFromEnv } from "@callflow/merge";
import { dialerConfigFromEnv } from "@callflow/outbound-dialer";
import { reaperConfigFromEnv } from "@callflow/reaper";
import { summaryConfigFromEnv } from "@callflow/summary";
import { transcriptionConfigFromEnv } from "@callflow/transcription";
import { ROOT } from "./paths.ts";

type Env = Record<string, string | undefined>;

/** What a test needs of one service's own configuration: the port its /healthz, /readyz and /metrics answer on. */
export interface ServiceConfigReader {
  /** Parses the environment with the service's own schema (throws a ConfigError naming each bad variable). */
  opsPort(env: Env): number;
  /** Binaries the service runs, by their configured names (ffmpeg, pocketsphinx, …). */
  tools(env: Env): string[];
}

// Ingest serves its ops endpoints on the API port; every worker on CALLFLOW_<NAME>_OPS_PORT.
export const SERVICES: Record<string, ServiceConfigReader> = {
  ingest: { opsPort: (env) => ingestConfigFromEnv(env).port, tools: (env) => [ingestConfigFromEnv(env).ffprobePath, ingestConfigFromEnv(env).ffmpegPath] },
  transcription: {
    opsPort: (env) => transcriptionConfigFromEnv(env).opsPort,
    tools: (env) => {
      const config = transcriptionConfigFromEnv(env);
      return [config.tools.ffmpeg, config.tools.ffprobe, config.pocketsphinx.binary];
    },
  },
  aggregator: { opsPort: (env) => aggregatorConfigFromEnv(env).opsPort, tools: () => [] },
  merge: { opsPort: (env) => mergeConfigFromEnv(env).opsPort, tools: (env) => [mergeConfigFromEnv(env).tools.ffmpeg, mergeConfigFromEnv(env).tools.ffprobe] },
  summary: { opsPort: (env) => summaryConfigFromEnv(env).opsPort, tools: () => [] },
  reaper: { opsPort: (env) => reaperConfigFromEnv(env).opsPort, tools: () => [] },
  "outbound-dialer": { opsPort: (env) => dialerConfigFromEnv(env).opsPort, tools: () => [] },
};

/** The service folders under services/: what the image, the chart and compose must each cover. */
export const serviceDirectories = (): string[] =>
  readdirSync(`${ROOT}services`, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

/**
 * The services that read a durable consumer and so scale on its lag. The reaper sweeps on a timer
 * (services/reaper/README.md: "durable consumer: none") and ingest serves HTTP (CPU-bound: an HPA).
 */
export const QUEUE_WORKERS = ["aggregator", "merge", "outbound-dialer", "summary", "transcription"];
