// The outbound loop end to end, every service in one process as `callflow up` runs it, on the simulated
// carrier: N dials to an answering number (distinct campaigns, so none is a duplicate), each placed at
// the dialer's pace, its status callbacks applied, its recording (a festival two-party conversation
// through an 8 kHz line) fetched into the pipeline, transcribed with an instant provider (a local server
// speaking OpenAI's transcription API, so the figures are the loop's own), merged, summarized, completed,
// and turned into a lead. Prints dials per minute end to end (first request → last lead) and p50/p99
// dial requested → lead created, with each step's p99: request → placed, call ended → recording's
// call created, call created → completed, completed → lead.
// Run: pnpm --filter @callflow/bench bench:outbound   (BENCH_OUTBOUND_DIALS, BENCH_OUTBOUND_CALLS_PER_SECOND)
import { loadavg } from "node:os";
import { startStack } from "../packages/cli/src/stack.ts";
import { createDb } from "../packages/db/src/index.ts";
import { testInfraUrls } from "../packages/testkit/src/env.ts";
import { createTestNamespace } from "../packages/testkit/src/nats.ts";
import { createTestDatabase } from "../packages/testkit/src/postgres.ts";
import { startFakeOpenAi } from "../packages/testkit/src/providers/fake-openai.ts";
import { waitFor } from "../packages/testkit/src/wait.ts";

const DIALS = Number(process.env.BENCH_OUTBOUND_DIALS ?? 30);
const CALLS_PER_SECOND = process.env.BENCH_OUTBOUND_CALLS_PER_SECOND ?? "5";

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const ms = (value: number) => `${value.toFixed(0)} ms`;

const urls = testInfraUrls();
const database = await createTestDatabase(urls.postgres);
const messaging = await createTestNamespace(urls.nats);
const provider = await startFakeOpenAi();
const stack = await startStack(
  {
    ...process.env,
    CALLFLOW_DATABASE_URL: database.url,
    CALLFLOW_NAMESPACE: messaging.namespace,
    CALLFLOW_LOG_LEVEL: "warn",
    CALLFLOW_TRANSCRIPTION_PROVIDER: "openai",
    CALLFLOW_OPENAI_BASE_URL: provider.baseURL,
    CALLFLOW_OPENAI_API_KEY: "bench-key",
    CALLFLOW_TRANSCRIPTION_CONCURRENCY: "16",
    CALLFLOW_INGEST_RATE_LIMIT_PER_MINUTE: "1000000",
    CALLFLOW_DIALER_CALLS_PER_SECOND: CALLS_PER_SECOND,
    CALLFLOW_DIALER_TENANT_CONCURRENCY: String(DIALS),
  },
  { randomPorts: true },
);
const db = createDb(database.url, { poolSize: 2 });

try {
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${stack.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json", ...(init.headers as Record<string, string>) } });
  // The whole day is the dev tenant's call window, whatever the hour this runs at.
  await db.tenant.update({ where: { id: stack.tenantId }, data: { callWindowStartMinute: 0, callWindowEndMinute: 1440 } });
  console.log(`outbound bench: ${DIALS} dials to an answering number at ${CALLS_PER_SECOND} calls/s, instant transcription, load ${loadavg().map((l) => l.toFixed(2)).join(" ")} (2 cores)`);

  const started = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < DIALS; i++) {
    const answer = await api("/v1/dials", { method: "POST", body: JSON.stringify({ to: "+14155550001", campaign: `bench-${i}` }) });
    if (answer.status !== 202) throw new Error(`POST /v1/dials answered ${answer.status}: ${await answer.text()}`);
    ids.push(((await answer.json()) as { id: string }).id);
  }
  let shown = -1;
  await waitFor(
    "every dial's lead",
    async () => {
      const leads = await db.lead.count({ where: { dialId: { in: ids } } });
      const settled = await db.dial.count({ where: { id: { in: ids }, status: { in: ["failed", "busy", "no_answer", "canceled"] } } });
      if (leads !== shown && (leads % 5 === 0 || leads === DIALS)) console.log(`  ${(shown = leads)}/${DIALS} leads after ${((performance.now() - started) / 1000).toFixed(1)} s`);
      if (settled > 0) throw new Error(`${settled} dials ended without a call`);
      return leads === DIALS;
    },
    { timeoutMs: 30 * 60_000, intervalMs: 250 },
  );
  const seconds = (performance.now() - started) / 1000;

  const dials = await db.dial.findMany({ where: { id: { in: ids } }, select: { createdAt: true, finishedAt: true, callId: true, events: { where: { status: "placed" }, select: { at: true } } } });
  const callIds = dials.map((dial) => dial.callId!);
  const calls = new Map((await db.call.findMany({ where: { id: { in: callIds } }, select: { id: true, createdAt: true, completedAt: true } })).map((call) => [call.id, call]));
  const leads = new Map((await db.lead.findMany({ where: { callId: { in: callIds } }, select: { callId: true, createdAt: true } })).map((lead) => [lead.callId, lead]));
  const toLead = dials.map((dial) => leads.get(dial.callId!)!.createdAt.getTime() - dial.createdAt.getTime());
  const toPlaced = dials.map((dial) => dial.events[0]!.at.getTime() - dial.createdAt.getTime());
  const fetchLag = dials.map((dial) => calls.get(dial.callId!)!.createdAt.getTime() - dial.finishedAt!.getTime());
  const processing = [...calls.values()].map((call) => call.completedAt!.getTime() - call.createdAt.getTime());
  const leadLag = [...calls.values()].map((call) => leads.get(call.id)!.createdAt.getTime() - call.completedAt!.getTime());
  console.log(`  end to end            ${((DIALS / seconds) * 60).toFixed(1)} dials/min (${DIALS} leads in ${seconds.toFixed(1)} s)`);
  console.log(`  requested → lead      p50 ${ms(quantile(toLead, 0.5))}  p99 ${ms(quantile(toLead, 0.99))}`);
  console.log(`  requested → placed    p99 ${ms(quantile(toPlaced, 0.99))}   (paced at ${CALLS_PER_SECOND}/s)`);
  console.log(`  call ended → call     p99 ${ms(quantile(fetchLag, 0.99))}   (recording callback, fetch, store, probe, commit)`);
  console.log(`  call → completed      p99 ${ms(quantile(processing, 0.99))}   (transcription, merge, summary, completion)`);
  console.log(`  completed → lead      p99 ${ms(quantile(leadLag, 0.99))}`);
} finally {
  await db.$disconnect();
  await stack.stop();
  await provider.close();
  await messaging.cleanup();
  await database.drop();
}
