import { useEffect, useId, useState, type FormEvent } from "react";

export const CALL_FILTERS = ["status", "phase", "source", "errorCode", "createdAfter", "createdBefore"] as const;
type FilterName = (typeof CALL_FILTERS)[number];
type Values = Record<string, string>;

const PHASES = ["uploading", "uploaded", "transcribing", "summarizing", "merging", "completed", "failed"];
const STATUSES = ["uploading", "processing", "completed", "failed"];
const SOURCES = [
  ["upload", "upload"],
  ["resumable", "resumable upload"],
  ["recorder", "recorder"],
  ["dial", "dial (outbound call)"],
];

const pad = (n: number) => String(n).padStart(2, "0");
/** An ISO time as a datetime-local input shows it (local time, minutes). */
const localInput = (iso: string): string => {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return "";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
};
const isoOf = (local: string): string => (local ? new Date(local).toISOString() : "");

/** The list's filters, as the API takes them (GET /v1/calls); applied on submit, so typing is not a request per key. */
export const CallFilters = ({ values, onApply }: { values: Values; onApply: (values: Values) => void }) => {
  const id = useId();
  const [draft, setDraft] = useState<Values>(values);
  const shown = JSON.stringify(values);
  useEffect(() => setDraft(JSON.parse(shown) as Values), [shown]);

  const set = (name: FilterName) => (event: { target: { value: string } }) => setDraft((current) => ({ ...current, [name]: event.target.value }));
  const select = (name: FilterName, label: string, options: string[][]) => (
    <div className="field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <select id={`${id}-${name}`} value={draft[name] ?? ""} onChange={set(name)}>
        <option value="">any</option>
        {options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(draft);
  };

  return (
    <form className="filters" role="search" aria-label="Filter calls" onSubmit={submit}>
      {select("status", "Status", STATUSES.map((s) => [s, s]))}
      {select("phase", "Phase", PHASES.map((p) => [p, p]))}
      {select("source", "Source", SOURCES)}
      <div className="field">
        <label htmlFor={`${id}-errorCode`}>Error code</label>
        <input id={`${id}-errorCode`} type="text" placeholder="e.g. unsupported_audio" value={draft.errorCode ?? ""} onChange={set("errorCode")} spellCheck={false} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-after`}>Created from</label>
        <input id={`${id}-after`} type="datetime-local" value={localInput(draft.createdAfter ?? "")} onChange={(event) => setDraft((d) => ({ ...d, createdAfter: isoOf(event.target.value) }))} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-before`}>Created before</label>
        <input id={`${id}-before`} type="datetime-local" value={localInput(draft.createdBefore ?? "")} onChange={(event) => setDraft((d) => ({ ...d, createdBefore: isoOf(event.target.value) }))} />
      </div>
      <div className="actions">
        <button type="submit">Apply filters</button>
        <button type="button" className="secondary" onClick={() => onApply({})}>
          Clear
        </button>
      </div>
    </form>
  );
};
