import { describe, expect, it } from "vitest";
import { panelQueries, readDashboards } from "../src/dashboards.ts";

/** Stable uids: links and bookmarks to a dashboard survive every release. Changing one is a breaking change. */
const UIDS: Record<string, string> = {
  "dialer.json": "callflow-dialer",
  "messaging.json": "callflow-messaging",
  "overview.json": "callflow-overview",
  "providers.json": "callflow-providers",
  "stages.json": "callflow-stages",
};

/** The panels issue 15 lists, by dashboard. */
const PANELS: Record<string, string[]> = {
  "callflow-overview": ["Calls by status", "Calls per minute", "End-to-end latency", "Stuck", "Failures by error code"],
  "callflow-stages": ["Stage duration", "Queue wait", "Re-drives", "Dead letters"],
  "callflow-messaging": ["Consumer lag", "Redeliveries", "Outbox age"],
  "callflow-providers": ["Requests", "Errors", "429s", "Breaker state", "Transcription real-time factor"],
  "callflow-dialer": ["Dials by outcome", "Calls per second against the limit", "Backlog by priority"],
};

const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

describe("the Grafana dashboards (charts/callflow/dashboards)", () => {
  const dashboards = readDashboards();

  it("are the five expected, each with its stable uid, unique", () => {
    expect(Object.fromEntries([...dashboards].map(([file, dashboard]) => [file, dashboard.uid]))).toEqual(UIDS);
    expect(new Set([...dashboards.values()].map((dashboard) => dashboard.title)).size).toBe(dashboards.size);
  });

  it("declare a Prometheus datasource variable, and every panel and query uses it (so they import into any Grafana)", () => {
    for (const dashboard of dashboards.values()) {
      expect(dashboard.templating.list.find((variable) => variable.name === "datasource"), dashboard.uid).toMatchObject({ type: "datasource", query: "prometheus" });
      for (const panel of dashboard.panels) {
        expect(panel.datasource, `${dashboard.uid} / ${panel.title}`).toEqual(DATASOURCE);
        expect(panel.targets?.length, `${dashboard.uid} / ${panel.title} has queries`).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) expect(target.datasource, `${dashboard.uid} / ${panel.title} / ${target.refId}`).toEqual(DATASOURCE);
      }
      // No datasource named by uid anywhere: that would tie the dashboard to one Grafana.
      expect(JSON.stringify(dashboard)).not.toMatch(/"uid":\s*"(?!\$\{datasource\}|callflow-)[^"]*"/);
    }
  });

  it("have the panels the issue lists, with unique ids and ref ids", () => {
    for (const dashboard of dashboards.values()) {
      expect(dashboard.panels.map((panel) => panel.title), dashboard.uid).toEqual(expect.arrayContaining(PANELS[dashboard.uid]!));
      expect(new Set(dashboard.panels.map((panel) => panel.id)).size, dashboard.uid).toBe(dashboard.panels.length);
      for (const panel of dashboard.panels) expect(new Set(panel.targets?.map((target) => target.refId)).size).toBe(panel.targets?.length);
    }
  });

  it("query only Callflow's own metrics (callflow_ prefix)", () => {
    for (const query of panelQueries(dashboards)) {
      expect(query.expr, query.name).toMatch(/\bcallflow_\w+/);
      // A selector with matchers or a range names a metric: each is Callflow's.
      for (const [, metric] of query.expr.matchAll(/\b([a-z_:][a-z0-9_:]*)\s*(?:\{|\[)/g)) expect(metric, query.name).toMatch(/^callflow_/);
    }
  });
});
