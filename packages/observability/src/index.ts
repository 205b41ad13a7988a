export { SPAN_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./otlp-receiver.ts";
export { settled, shortCall, startTestStack, uploadCall, type StackFixtures } from "./stack-run.ts";
export { assertInstalled, PROMETHEUS, PROMTOOL, startPrometheus, type PrometheusSample, type QueryAnswer, type RunningPrometheus, type ScrapeTarget } from "./prometheus.ts";
export { ALERT_TESTS_FILE, ALERTS_FILE, asPrometheusQuery, CHART_DIR, DASHBOARDS_DIR, panelQueries, readDashboards, type Dashboard, type DashboardPanel } from "./dashboards.ts";
