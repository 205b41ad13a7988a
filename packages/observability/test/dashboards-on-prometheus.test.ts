import * as ingest from "@callflow/ingest";
import { describe, expect, startFakeOpenAi, test, waitFor } from "@callflow/testkit";
import { ALERTS_FILE, asPrometheusQuery, panelQueries } from "../src/dashboards.ts";
import { startPrometheus, type QueryAnswer } from "../src/prometheus.ts";
import { settled, shortCall, startTestStack, uploadCall } from "../src/stack-run.ts";

/**
 * Panels that may legitimately return no series after this run, with the reason. Every other panel
 * query must return at least one series. Kept explicit: a panel that starts or stops returning data
 * changes this list in review.
 */
// Empty: the run exercises every panel (a failed call, a 429 and an error from a provider, a dial),
// and counters a panel reads start at 0, so "none" is a 0 series rather than no data.
const MAY_BE_EMPTY: Record<string, string> = {};

describe("the dashboards against a real Prometheus", () => {
  test(
    "every panel's query parses and returns series after the stack has processed calls and a dial",
    async ({ database, messaging }) => {
      // A second tenant transcribes with an OpenAI-compatible provider that answers 429 then 400: its
      // call fails (failures by error code, provider errors and 429s have real data), the other completes.
      const openai = await startFakeOpenAi({ apiKey: "sk-observability" });
      openai.script({ kind: "error", status: 429, retryAfterSeconds: 0 }, { kind: "error", status: 400, message: "unsupported audio" });
      const tenant = await database.db.tenant.create({ data: { name: "openai tenant" } });
      const { key } = await ingest.createApiKey(database.db, { tenantId: tenant.id, name: "observability" });
      const call = await shortCall();
      const stack = await startTestStack(
        { database, messaging },
        {
          CALLFLOW_TRANSCRIPTION_TENANT_PROVIDERS: `${tenant.id}=openai`,
          CALLFLOW_OPENAI_BASE_URL: openai.baseURL,
          CALLFLOW_OPENAI_API_KEY: "sk-observability",
          CALLFLOW_REAPER_INTERVAL_MS: "2000",
        },
      );
      // Every service's /metrics, as a ServiceMonitor or docker-compose's Prometheus scrapes them.
      const targets = [{ job: "callflow-ingest", url: stack.apiUrl }, ...Object.entries(stack.opsUrls).map(([name, url]) => ({ job: `callflow-${name}`, url }))];
      // Every 2 s, each scrape allowed 2 s: a loaded machine's slow scrape is not a gap in the series.
      const prometheus = await startPrometheus({ targets, ruleFiles: [ALERTS_FILE], scrapeInterval: "2s" });
      try {
        await waitFor(
          "every target to be scraped",
          async () => {
            const active = await prometheus.targets();
            return active.length === targets.length && active.every((target) => target.health === "up");
          },
          { timeoutMs: 30_000, intervalMs: 250 },
        );
        expect((await prometheus.targets()).map((target) => target.job).sort()).toEqual(targets.map((target) => target.job).sort());

        const completing = await uploadCall(stack, call.audio);
        const failing = await uploadCall({ ...stack, apiKey: key }, call.audio);
        const dial = await fetch(`${stack.apiUrl}/v1/dials`, {
          method: "POST",
          body: JSON.stringify({ to: "+14155550002" }),
          headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json" },
        });
        expect(dial.status).toBe(202);
        const dialId = ((await dial.json()) as { id: string }).id;

        expect(await settled(stack, completing)).toBe("completed");
        expect(await settled({ ...stack, apiKey: key }, failing)).toBe("failed");
        await waitFor(
          "the dial to end busy",
          async () => ((await (await fetch(`${stack.apiUrl}/v1/dials/${dialId}`, { headers: { authorization: `Bearer ${stack.apiKey}` } })).json()) as { status: string }).status === "busy",
          { timeoutMs: 60_000, intervalMs: 250 },
        );
        // Counters moved while Prometheus watched; a few more scrapes so rates cover them.
        const scraped = (expr: string) => async () => {
          const answer = await prometheus.query(expr);
          return answer.ok && answer.result.length > 0;
        };
        await waitFor("the completed call in Prometheus", scraped('callflow_call_end_to_end_seconds_count > 0'), { timeoutMs: 30_000, intervalMs: 250 });
        // The reaper reads Postgres at most every 5 s: both calls settled in what it reports.
        await waitFor("the completed call in the pipeline state", scraped('callflow_calls{status="completed"} > 0'), { timeoutMs: 30_000, intervalMs: 250 });
        await waitFor("the failed call in the pipeline state", scraped('callflow_calls_failed > 0'), { timeoutMs: 30_000, intervalMs: 250 });
        await waitFor("the placement in Prometheus", scraped('callflow_dialer_placements_total{outcome="placed"} > 0'), { timeoutMs: 30_000, intervalMs: 250 });

        const queries = panelQueries();
        expect(queries.length).toBeGreaterThan(20);
        // A query with no series is asked again for a while: a scrape that failed on a loaded machine
        // leaves a short gap, which the next scrapes fill; a panel whose metric does not exist stays empty.
        const ask = async (expr: string): Promise<QueryAnswer> => {
          let answer = await prometheus.query(expr);
          for (const deadline = Date.now() + 20_000; answer.ok && answer.result.length === 0 && Date.now() < deadline; answer = await prometheus.query(expr)) {
            await new Promise((resolve) => setTimeout(resolve, 1_000));
          }
          return answer;
        };
        const answers: { name: string; expr: string; answer: QueryAnswer }[] = [];
        for (const query of queries) answers.push({ ...query, answer: await ask(asPrometheusQuery(query.expr)) });

        const refused = answers.filter(({ answer }) => !answer.ok).map(({ name, answer }) => `${name}: ${answer.ok ? "" : answer.error}`);
        expect(refused, "queries Prometheus refused").toEqual([]);
        const empty = answers.filter(({ answer }) => answer.ok && answer.result.length === 0).map(({ name }) => name);
        expect(empty.filter((name) => !(name in MAY_BE_EMPTY)), "panels with no series").toEqual([]);
        for (const name of Object.keys(MAY_BE_EMPTY)) expect(queries.some((query) => query.name === name), `MAY_BE_EMPTY names a panel that exists: ${name}`).toBe(true);

        // What the run did shows in the panels, not only that they answer.
        const value = async (expr: string) => {
          const answer = await prometheus.query(expr);
          return answer.ok ? answer.result.map((sample) => ({ labels: sample.metric, value: Number(sample.value[1]) })) : [];
        };
        const byStatus = await value('max by (status) (callflow_calls{status=~"completed|failed"})');
        expect(byStatus, JSON.stringify(byStatus)).toEqual(
          expect.arrayContaining([{ labels: { status: "completed" }, value: 1 }, { labels: { status: "failed" }, value: 1 }]),
        );
        expect((await value("max by (error_code) (callflow_calls_failed)")).map((sample) => sample.labels.error_code)).toEqual(["chunk_failed"]);
        const openaiFailures = await value('sum by (provider, outcome) (callflow_provider_requests_total{provider="openai", outcome!="ok"})');
        expect(openaiFailures, JSON.stringify(openaiFailures)).toEqual(
          expect.arrayContaining([{ labels: { provider: "openai", outcome: "rate_limited" }, value: 1 }, { labels: { provider: "openai", outcome: "error" }, value: 1 }]),
        );
        expect(await value('max by (status) (callflow_dials{status="busy"})')).toEqual([{ labels: { status: "busy" }, value: 1 }]);

        // The alert rules load into this Prometheus, and every one evaluates without an error.
        const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
        const loaded = rules.data.groups.flatMap((group) => group.rules);
        expect(loaded.length).toBeGreaterThanOrEqual(8);
        expect(loaded.filter((rule) => rule.health === "err")).toEqual([]);
      } finally {
        await prometheus.close();
        await stack.stop();
        await openai.close();
        await call.cleanup();
      }
    },
    300_000,
  );
});
