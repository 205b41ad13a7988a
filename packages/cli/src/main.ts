import { Command, InvalidArgumentError } from "commander";
import { createApiClient } from "./api-client.ts";
import { exitCodeOf, followDial, followDialOutcome, renderDialSummary, renderLead, type DialRequest } from "./follow-dial.ts";
import { collectReport, processCall } from "./process-call.ts";
import { createProgressView } from "./progress-view.ts";
import { renderList } from "./render-lists.ts";
import { renderReport } from "./render-report.ts";
import { synthesizeCall } from "./sample-call.ts";
import type { Stack } from "./stack.ts";

const env = process.env;
// The AWS SDK's notice that its 2027 releases need Node 22 would open every local run; the README says it.
env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const DEFAULT_API = env.CALLFLOW_API_URL ?? "http://127.0.0.1:8080";
const RESUME_STORE = ".callflow/uploads.json";

const seconds = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError(`not a number of seconds: "${value}"`);
  return parsed;
};

const say = (line: string) => process.stdout.write(`${line}\n`);

function printStack(stack: Stack): void {
  say(`\nCallflow is up on the embedded defaults (s3rver, pocketsphinx, extractive summary, simulated carrier).`);
  say(`  API          ${stack.apiUrl}   (OpenAPI at ${stack.apiUrl}/docs)`);
  say(`  API key      ${stack.apiKey}   (tenant ${stack.tenantId}; admin scope)`);
  say(`  metrics      ${stack.apiUrl}/metrics`);
  for (const [service, url] of Object.entries(stack.opsUrls)) say(`               ${url}/metrics   (${service})`);
  say(`  storage      ${stack.storageEndpoint}`);
}

/**
 * A local run prints progress and results; the services' JSON log lines go to a file named at the
 * end (CALLFLOW_LOG_FILE, or .callflow/logs/), unless --verbose asks for them on the terminal.
 */
function routeServiceLogs(verbose: boolean | undefined): string | undefined {
  if (verbose) return undefined;
  env.CALLFLOW_LOG_FILE ??= `.callflow/logs/callflow-${new Date().toISOString().replace(/[:.]/g, "-")}.log`;
  return env.CALLFLOW_LOG_FILE;
}

/**
 * Every service, Prisma, the AWS SDK and OpenTelemetry: seconds of loading that only the commands
 * running Callflow here need, so the commands that talk to an API start without them.
 */
const startStack: typeof import("./stack.ts").startStack = async (...args) => (await import("./stack.ts")).startStack(...args);

/** Starts the stack, runs `work`, stops the stack: the demo, `process --local` and `dial --local`. */
async function withLocalStack<T>(work: (stack: Stack) => Promise<T>, verbose?: boolean): Promise<T> {
  const logFile = routeServiceLogs(verbose);
  say("Starting Callflow in this process…");
  try {
    const stack = await startStack(env, { randomPorts: env.CALLFLOW_INGEST_PORT === undefined });
    printStack(stack);
    try {
      return await work(stack);
    } finally {
      await stack.stop();
    }
  } finally {
    if (logFile) say(`\nService logs: ${logFile}   (--verbose shows them here)`);
  }
}

async function processAndReport(apiUrl: string, apiKey: string, file: string, timeoutSeconds: number): Promise<number> {
  const report = await processCall(createApiClient(apiUrl, apiKey), file, {
    view: createProgressView(),
    timeoutMs: timeoutSeconds * 1000,
    resumeStore: RESUME_STORE,
  });
  say(`\n${renderReport(report)}`);
  return report.status === "completed" ? 0 : 1;
}

async function dialAndReport(apiUrl: string, apiKey: string, request: DialRequest, timeoutSeconds: number): Promise<number> {
  const api = createApiClient(apiUrl, apiKey);
  const startedAt = Date.now();
  const dial = await followDial(api, request, { timeoutMs: timeoutSeconds * 1000, say });
  say(`\n${renderDialSummary(dial)}`);
  if (dial.status !== "completed") return exitCodeOf(dial);
  // An answered call: its recording, the call it becomes and the lead made from it.
  const outcome = await followDialOutcome(api, dial.id, { timeoutMs: Math.max(1_000, timeoutSeconds * 1000 - (Date.now() - startedAt)), say });
  if (outcome.report) say(`\n${renderReport(outcome.report)}`);
  say(`\n${renderLead(outcome.lead)}`);
  return outcome.report?.status === "completed" && outcome.lead ? 0 : 1;
}

const priority = (value: string): "high" | "normal" | "low" => {
  if (value === "high" || value === "normal" || value === "low") return value;
  throw new InvalidArgumentError(`not one of high, normal, low: "${value}"`);
};

/** The simulated carrier answers numbers ending 0001 and plays a synthesized two-party conversation. */
const DEMO_NUMBER = "+14155550001";

const program = new Command("callflow").description("Callflow: call recordings in; transcripts, summaries and leads out.");

program
  .command("up")
  .description("run every service in this process on the embedded defaults until interrupted")
  .option("--verbose", "print the services' JSON log lines here instead of to a file")
  .action(async (options: { verbose?: boolean }) => {
    const logFile = routeServiceLogs(options.verbose);
    const stack = await startStack(env);
    printStack(stack);
    if (logFile) say(`  logs         ${logFile}`);
    say("\nProcess a file with: pnpm callflow process <file> --key <the key above>");
    say("Place a call with:   pnpm callflow dial +14155550001 --key <the key above>   (Ctrl-C stops)");
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    say("stopping…");
    await stack.stop();
  });

program
  .command("process")
  .argument("<file>", "an audio file (WAV, MP3, M4A, OGG/Opus, WebM, FLAC)")
  .description("upload a recording (resumable), show each stage's progress, print transcript, summary and timeline")
  .option("--api <url>", "the Callflow API", DEFAULT_API)
  .option("--key <key>", "API key (default CALLFLOW_API_KEY or CALLFLOW_DEV_API_KEY)")
  .option("--local", "start the whole stack in this process first, and stop it after")
  .option("--timeout <seconds>", "give up after this long", seconds, 900)
  .option("--verbose", "with --local: print the services' JSON log lines here instead of to a file")
  .action(async (file: string, options: { api: string; key?: string; local?: boolean; timeout: number; verbose?: boolean }) => {
    const code = options.local
      ? await withLocalStack((stack) => processAndReport(stack.apiUrl, stack.apiKey, file, options.timeout), options.verbose)
      : await processAndReport(options.api, requireKey(options.key), file, options.timeout);
    process.exitCode = code;
  });

program
  .command("dial")
  .argument("<number>", "the number to call, in international form (+15550000001)")
  .description("place an outbound call through the dialer and follow it to the end; an answered call on through its recording, transcript and summary to its lead (exit 1 if it failed, was canceled, or did not get that far in time)")
  .option("--api <url>", "the Callflow API", DEFAULT_API)
  .option("--key <key>", "API key (default CALLFLOW_API_KEY or CALLFLOW_DEV_API_KEY)")
  .option("--local", "start the whole stack in this process first, and stop it after")
  .option("--priority <priority>", "high, normal or low", priority)
  .option("--campaign <name>", "the campaign the dial belongs to")
  .option("--timeout <seconds>", "stop following after this long", seconds, 600)
  .option("--verbose", "with --local: print the services' JSON log lines here instead of to a file")
  .action(async (to: string, options: { api: string; key?: string; local?: boolean; priority?: DialRequest["priority"]; campaign?: string; timeout: number; verbose?: boolean }) => {
    const request: DialRequest = { to, ...(options.priority ? { priority: options.priority } : {}), ...(options.campaign ? { campaign: options.campaign } : {}) };
    process.exitCode = options.local
      ? await withLocalStack((stack) => dialAndReport(stack.apiUrl, stack.apiKey, request, options.timeout), options.verbose)
      : await dialAndReport(options.api, requireKey(options.key), request, options.timeout);
  });

program
  .command("demo")
  .description("the README's main job: start the stack, synthesize a two-party call with festival, process it, print the result; --outbound: place a call through the simulated carrier instead and follow it to its lead")
  .option("--outbound", "place an outbound call (simulated carrier) and follow it through its recording, transcript and summary to its lead")
  .option("--timeout <seconds>", "give up after this long", seconds, 600)
  .option("--verbose", "print the services' JSON log lines here instead of to a file")
  .action(async (options: { outbound?: boolean; timeout: number; verbose?: boolean }) => {
    if (options.outbound) {
      process.exitCode = await withLocalStack((stack) => dialAndReport(stack.apiUrl, stack.apiKey, { to: DEMO_NUMBER, campaign: `demo-${Date.now()}` }, options.timeout), options.verbose);
      return;
    }
    say("Synthesizing a two-party sample call with festival…");
    const sample = await synthesizeCall();
    try {
      process.exitCode = await withLocalStack((stack) => processAndReport(stack.apiUrl, stack.apiKey, sample.call, options.timeout), options.verbose);
    } finally {
      await sample.cleanup();
    }
  });

for (const [name, path, description] of [
  ["calls", "/v1/calls?limit=20", "list the latest calls"],
  ["dials", "/v1/dials?limit=20", "list the latest outbound dials"],
  ["leads", "/v1/leads?limit=20", "list the latest leads"],
  ["stuck", "/v1/admin/stuck", "list work that is past its deadline (admin)"],
  ["dead-letters", "/v1/admin/dead-letters", "list dead letters (admin)"],
] as const) {
  program
    .command(name)
    .description(description)
    .option("--api <url>", "the Callflow API", DEFAULT_API)
    .option("--key <key>", "API key (default CALLFLOW_API_KEY or CALLFLOW_DEV_API_KEY)")
    .option("--json", "print the API's JSON answer instead of a table")
    .action(async (options: { api: string; key?: string; json?: boolean }) => {
      const answer = await createApiClient(options.api, requireKey(options.key)).get<unknown>(path);
      if (answer.status >= 400) {
        const error = (answer.body as { error?: { code?: string; message?: string } } | null)?.error;
        process.stderr.write(`callflow: ${path} answered ${answer.status}${error ? ` ${error.code}: ${error.message}` : ""}\n`);
        process.exitCode = 1;
        return;
      }
      say(options.json ? JSON.stringify(answer.body, null, 2) : renderList(name, answer.body));
    });
}

program
  .command("call")
  .argument("<id>", "call id")
  .description("a call's status, stage timeline, transcript and summary")
  .option("--api <url>", "the Callflow API", DEFAULT_API)
  .option("--key <key>", "API key (default CALLFLOW_API_KEY or CALLFLOW_DEV_API_KEY)")
  .action(async (id: string, options: { api: string; key?: string }) => {
    const report = await collectReport(createApiClient(options.api, requireKey(options.key)), id);
    say(renderReport(report));
  });

function requireKey(key: string | undefined): string {
  const found = key ?? env.CALLFLOW_API_KEY ?? env.CALLFLOW_DEV_API_KEY;
  if (!found) throw new InvalidArgumentError("no API key: pass --key, or set CALLFLOW_API_KEY (callflow up prints one)");
  return found;
}

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`callflow: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
