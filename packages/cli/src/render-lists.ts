/** What `callflow calls | dials | stuck | dead-letters` print: a table a person scans, not the API's JSON. */

type Row = Record<string, unknown>;

interface Column {
  title: string;
  value: (row: Row) => string;
}

const text = (value: unknown): string => (value === null || value === undefined || value === "" ? "—" : String(value));
const ago = (iso: unknown, now: Date): string => {
  if (typeof iso !== "string") return "—";
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
};
const errorOf = (row: Row): string => {
  const error = row.error as { code?: string; message?: string | null } | null | undefined;
  return error?.code ? `${error.code}${error.message ? `: ${error.message}` : ""}` : "—";
};

export function renderTable(rows: readonly Row[], columns: readonly Column[], maxCell = 60): string {
  const cells = rows.map((row) => columns.map((column) => clip(column.value(row), maxCell)));
  const widths = columns.map((column, i) => Math.max(column.title.length, ...cells.map((line) => line[i]!.length)));
  const render = (line: readonly string[]) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd();
  return [render(columns.map((column) => column.title)), ...cells.map(render)].join("\n");
}

const clip = (value: string, max: number): string => (value.length > max ? `${value.slice(0, max - 1)}…` : value);

export const LISTS = {
  calls: {
    empty: "No calls yet.",
    columns: (now: Date): Column[] => [
      { title: "CALL", value: (r) => text(r.id) },
      { title: "STATUS", value: (r) => text(r.status) },
      { title: "SOURCE", value: (r) => text(r.source) },
      { title: "AUDIO", value: (r) => (typeof r.durationSeconds === "number" ? `${r.durationSeconds.toFixed(1)} s` : "—") },
      { title: "CREATED", value: (r) => ago(r.createdAt, now) },
      { title: "ERROR", value: (r) => (r.failedStage ? `${text(r.failedStage)}: ${errorOf(r)}` : errorOf(r)) },
    ],
  },
  dials: {
    empty: "No dials yet.",
    columns: (now: Date): Column[] => [
      { title: "DIAL", value: (r) => text(r.id) },
      { title: "TO", value: (r) => text(r.to) },
      { title: "STATUS", value: (r) => text(r.status).replace(/_/g, " ") },
      { title: "PRIORITY", value: (r) => text(r.priority) },
      { title: "ATTEMPTS", value: (r) => (typeof r.attempt === "number" ? `${r.attempt}/${text(r.maxAttempts)}` : "—") },
      { title: "CREATED", value: (r) => ago(r.createdAt, now) },
      { title: "ERROR", value: (r) => errorOf(r) },
    ],
  },
  stuck: {
    empty: "Nothing is past its deadline.",
    columns: (now: Date): Column[] => [
      { title: "STAGE", value: (r) => text(r.stage) },
      { title: "ENTITY", value: (r) => `${text(r.entityType)} ${text(r.entityId)}` },
      { title: "CALL", value: (r) => text(r.callId) },
      { title: "STATUS", value: (r) => `${text(r.status)}${typeof r.attempt === "number" ? ` (attempt ${r.attempt})` : ""}` },
      { title: "SINCE", value: (r) => ago(r.since, now) },
      { title: "REASON", value: (r) => text(r.reason) },
    ],
  },
  leads: {
    empty: "No leads yet.",
    columns: (now: Date): Column[] => [
      { title: "ID", value: (r) => text(r.id) },
      { title: "DIRECTION", value: (r) => text(r.direction) },
      { title: "NUMBER", value: (r) => text(r.direction === "outbound" ? r.to : r.from) },
      { title: "CALLER", value: (r) => text(r.callerName) },
      { title: "INTENT", value: (r) => text(r.intent) },
      { title: "CALLBACK", value: (r) => text(r.callbackNumber) },
      { title: "FOLLOW-UP", value: (r) => text(r.followUpDate) },
      { title: "CREATED", value: (r) => ago(r.createdAt, now) },
    ],
  },
  "dead-letters": {
    empty: "No dead letters.",
    columns: (now: Date): Column[] => [
      { title: "ID", value: (r) => text(r.id) },
      { title: "CONSUMER", value: (r) => text(r.consumer) },
      { title: "ENTITY", value: (r) => (r.entityType ? `${text(r.entityType)} ${text(r.entityId)}` : "—") },
      { title: "REASON", value: (r) => `${text(r.reason)} after ${text(r.deliveryCount)}` },
      { title: "WHEN", value: (r) => ago(r.createdAt, now) },
      { title: "REPLAYED", value: (r) => (typeof r.replayCount === "number" && r.replayCount > 0 ? `${r.replayCount}×` : "no") },
      { title: "ERROR", value: (r) => errorOf(r) },
    ],
  },
} as const;

export type ListName = keyof typeof LISTS;

/** The table for one list answer (`{items: […]}`), or its empty message. */
export function renderList(name: ListName, body: unknown, now = new Date()): string {
  const items = (body as { items?: Row[] } | null)?.items ?? [];
  const list = LISTS[name];
  return items.length === 0 ? list.empty : renderTable(items, list.columns(now));
}
