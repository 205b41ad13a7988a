import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** charts/callflow: the chart reads its dashboards and alert rules from here. */
export const CHART_DIR = fileURLToPath(new URL("../../../charts/callflow/", import.meta.url));
export const DASHBOARDS_DIR = path.join(CHART_DIR, "dashboards");
export const ALERTS_FILE = path.join(CHART_DIR, "files", "alerts.yaml");
export const ALERT_TESTS_FILE = path.join(CHART_DIR, "files", "alerts.test.yaml");

export interface DashboardTarget {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: DashboardTarget[];
}

export interface Dashboard {
  uid: string;
  title: string;
  templating: { list: { name: string; type: string; query?: string }[] };
  panels: DashboardPanel[];
}

/** Every dashboard JSON file, by file name. */
export const readDashboards = (): Map<string, Dashboard> =>
  new Map(
    readdirSync(DASHBOARDS_DIR)
      .filter((file) => file.endsWith(".json"))
      .sort()
      .map((file) => [file, JSON.parse(readFileSync(path.join(DASHBOARDS_DIR, file), "utf8")) as Dashboard]),
  );

/**
 * A panel query as Prometheus runs it once Grafana has filled in its variables: `$__rate_interval`
 * (at least four scrape intervals; the test's scrapes are a second apart) becomes `window`.
 */
export const asPrometheusQuery = (expr: string, window = "1m"): string => expr.replaceAll("$__rate_interval", window).replaceAll("$__interval", window);

/** Every query of every panel, named `dashboard / panel / refId`. */
export const panelQueries = (dashboards = readDashboards()): { name: string; dashboard: string; panel: string; expr: string }[] =>
  [...dashboards.values()].flatMap((dashboard) =>
    dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ name: `${dashboard.title} / ${panel.title} / ${target.refId}`, dashboard: dashboard.uid, panel: panel.title, expr: target.expr })),
    ),
  );
