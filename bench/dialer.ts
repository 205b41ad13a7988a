// The outbound dialer's pacing: 300 dials against the local Twilio server (`startTwilioServer`, reached
// through the production Twilio adapter) at a limit of 5/s and then 20/s, each run with its own database
// and namespace and two dialer replicas in this process (two `start()`), so the limit is the shared one.
// Dials are created through the same DB path the dialer's tests use (test/support/harness.ts's
// requestDials: the row, its `queued` timeline row and dialRequested in one transaction), one dial per
// transaction, arriving open-loop at the limit: a dialer that cannot keep up falls behind and shows it.
// Prints, per limit: the achieved placement rate as a fraction of the limit, over the dials' claims
// (started_at, first → last: where the token bucket acts) and beside it over the calls the carrier
// created; the busiest one-second window of claims and at the carrier; p50/p99 request → placed (the
// dial's created_at → its `placed` timeline row) and the run's total time.
// Target: claims at ≥ 95% of the limit and never above it (at most limit × span + 2 claims, the bucket's
// bound), no one-second window of claims above the limit plus one (the pacing test's bound); exits 1 if
// missed. The carrier's figures add the HTTP requests' jitter on a loaded machine, not the dialer's pace.
// Run: pnpm --filter @callflow/bench bench:dialer   (BENCH_DIALER_DIALS, BENCH_DIALER_LIMITS=5,20)
import { loadavg } from "node:os";
import { commitWithEvents, type OutboxRelay } from "../packages/messaging/src/index.ts";
import { startTwilioServer, twilioEnvFor } from "../packages/telephony/src/index.ts";
import { testInfraUrls } from "../packages/testkit/src/env.ts";
import { createTestNamespace, type TestNamespace } from "../packages/testkit/src/nats.ts";
import { createTestDatabase, type TestDatabase } from "../packages/testkit/src/postgres.ts";
import { waitFor } from "../packages/testkit/src/wait.ts";
import { dialerConfigFromEnv, start } from "../services/outbound-dialer/src/index.ts";
import { busiestWindow } from "../services/outbound-dialer/src/rate-window.ts";

const DIALS = Number(process.env.BENCH_DIALER_DIALS ?? 300);
const LIMITS = (process.env.BENCH_DIALER_LIMITS ?? "5,20").split(",").map(Number);
const TARGET_FRACTION = 0.95;
/** `limit` (default): dials arrive open-loop at the limit; `backlog`: all of them at once, as a campaign's upload. */
const ARRIVAL = process.env.BENCH_DIALER_ARRIVAL === "backlog" ? "backlog" : "limit";

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const ms = (value: number) => `${value.toFixed(0)} ms`;
const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, milliseconds)));
/** Numbers the local carrier answers as an ordinary call (its table keys on the last four digits: 0001 answers). */
const answeredNumber = (i: number) => `+1415${String(i).padStart(3, "0").slice(-3)}0001`;

/** One dial as the API writes it, in its own transaction (harness.ts's requestDials for one seed). */
const requestDial = (database: TestDatabase, messaging: TestNamespace, relay: Pick<OutboxRelay, "publishNow">, tenantId: string, i: number) =>
  commitWithEvents(database.db, messaging.topology, async (tx, emit) => {
    const toNumber = answeredNumber(i);
    const dial = await tx.dial.create({ data: { tenantId, toNumber, dedupKey: `${toNumber}#${i}`, nextAttemptAt: new Date() }, select: { id: true } });
    await tx.dialEvent.create({ data: { dialId: dial.id, status: "queued", attempt: 0 } });
    await emit("dialRequested", { tenantId, dialId: dial.id, attempt: 0 });
    return dial.id;
  }, relay);

async function run(limit: number): Promise<boolean> {
  const urls = testInfraUrls();
  const database = await createTestDatabase(urls.postgres);
  const messaging = await createTestNamespace(urls.nats);
  const twilio = await startTwilioServer();
  const env = {
    ...process.env,
    CALLFLOW_DATABASE_URL: database.url,
    CALLFLOW_NATS_URL: urls.nats,
    CALLFLOW_NAMESPACE: messaging.namespace,
    CALLFLOW_LOG_LEVEL: "warn",
    CALLFLOW_DIALER_OPS_PORT: "0",
    CALLFLOW_DIALER_IDLE_POLL_MS: "100",
    CALLFLOW_DIALER_CALLS_PER_SECOND: String(limit),
    CALLFLOW_DIALER_CONCURRENCY: "4",
    CALLFLOW_DIALER_TENANT_CONCURRENCY: String(DIALS * 2),
    ...twilioEnvFor(twilio),
    // Nobody listens there: the carrier's status callbacks are not this bench's subject.
    CALLFLOW_DIALER_CALLBACK_BASE_URL: "http://127.0.0.1:9",
  };
  const replicas = [await start(dialerConfigFromEnv(env)), await start(dialerConfigFromEnv(env))];
  try {
    const tenant = await database.db.tenant.create({ data: { name: "dialer bench", callWindowStartMinute: 0, callWindowEndMinute: 1440 } });
    const started = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < DIALS; i++) {
      if (ARRIVAL === "limit") await sleep(started + (i * 1000) / limit - performance.now());
      ids.push(await requestDial(database, messaging, replicas[i % 2]!.context.relay, tenant.id, i));
    }
    await waitFor(`all ${DIALS} dials placed`, async () => (await database.db.dial.count({ where: { id: { in: ids }, status: { not: "queued" }, providerCallId: { not: null } } })) === DIALS, {
      timeoutMs: (DIALS / limit) * 1000 + 60_000,
      intervalMs: 100,
    });
    const total = (performance.now() - started) / 1000;

    const created = [...twilio.calls.values()].map((call) => call.dateCreated.getTime()).sort((a, b) => a - b);
    const dials = await database.db.dial.findMany({ where: { id: { in: ids } }, select: { createdAt: true, startedAt: true, events: { where: { status: "placed" }, select: { at: true } } } });
    const latency = dials.filter((dial) => dial.events[0]).map((dial) => dial.events[0]!.at.getTime() - dial.createdAt.getTime());
    // Where the token bucket acts: each dial's claim (started_at). The carrier's creation times add the
    // HTTP requests' jitter on their way there, printed beside it.
    const claimed = dials.flatMap((dial) => (dial.startedAt ? [dial.startedAt.getTime()] : [])).sort((a, b) => a - b);
    const rateOver = (times: number[]) => ({ span: (times.at(-1)! - times[0]!) / 1000, perSecond: (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000) });
    const claims = rateOver(claimed);
    const atCarrier = rateOver(created);
    const fraction = claims.perSecond / limit;
    const busiest = busiestWindow(created, 1_000);
    const claimedBusiest = busiestWindow(claimed, 1_000);
    const placedBy = await Promise.all(
      replicas.map(async (replica) => Number((await replica.context.metrics.registry.getSingleMetric("callflow_dialer_placements_total")?.get())?.values.find((value) => value.labels.outcome === "placed")?.value ?? 0)),
    );
    // A bucket of BURST = 2 admits at most limit × t + 2 claims in any closed span of t seconds.
    const allowed = Math.floor(limit * claims.span) + 2;
    const met = fraction >= TARGET_FRACTION && claimed.length <= allowed && claimedBusiest <= limit + 1 && created.length === DIALS;
    console.log(`  limit ${limit}/s: ${created.length} calls created at the carrier (replicas placed ${placedBy.join(" + ")}), total ${total.toFixed(1)} s`);
    console.log(`    achieved              ${claims.perSecond.toFixed(2)} claims/s = ${(fraction * 100).toFixed(1)}% of the limit (target ≥ ${TARGET_FRACTION * 100}%, never above: ${claimed.length} in ${claims.span.toFixed(2)} s, at most ${allowed}); at the carrier ${atCarrier.perSecond.toFixed(2)} calls/s`);
    console.log(`    busiest second        ${claimedBusiest} dials claimed (started_at, the token's time; target ≤ ${limit + 1}); ${busiest} calls created at the carrier`);
    console.log(`    request → placed      p50 ${ms(quantile(latency, 0.5))}  p99 ${ms(quantile(latency, 0.99))}  (${latency.length} placed)`);
    console.log(`    ${met ? "PASS" : "BELOW TARGET"}`);
    return met;
  } finally {
    for (const replica of replicas) await replica.stop();
    await twilio.close();
    await messaging.cleanup();
    await database.drop();
  }
}

console.log(`dialer bench: ${DIALS} dials per limit, arriving ${ARRIVAL === "limit" ? "at the limit" : "all at once"}, two replicas × 4 lanes, load ${loadavg().map((l) => l.toFixed(2)).join(" ")} (2 cores)`);
const benchStarted = performance.now();
const results: boolean[] = [];
for (const limit of LIMITS) results.push(await run(limit));
console.log(`total ${((performance.now() - benchStarted) / 1000).toFixed(1)} s; ${results.every(Boolean) ? "every limit met its target" : "a target was missed"}`);
process.exitCode = results.every(Boolean) ? 0 : 1;
