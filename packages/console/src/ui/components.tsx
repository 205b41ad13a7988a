import type { ReactNode } from "react";
import type { ApiError } from "../api/client.ts";
import { formatTime, words } from "./format.ts";
import { useNow } from "./hooks.ts";

const TONES: Record<string, "ok" | "bad" | "busy" | "idle"> = {
  completed: "ok",
  succeeded: "ok",
  applied: "ok",
  failed: "bad",
  busy: "bad",
  no_answer: "bad",
  canceled: "bad",
  stale: "bad",
  uploading: "busy",
  processing: "busy",
  transcribing: "busy",
  summarizing: "busy",
  merging: "busy",
  running: "busy",
  placing: "busy",
  placed: "busy",
  ringing: "busy",
  in_progress: "busy",
};

/** A status or phase as a word with a colour; the word alone carries the meaning. */
export const Badge = ({ value }: { value: string }) => <span className={`badge badge-${TONES[value] ?? "idle"}`}>{words(value)}</span>;

export const Time = ({ iso }: { iso: string | null | undefined }) => (iso ? <time dateTime={iso} title={iso}>{formatTime(iso)}</time> : <span>—</span>);

/** An API error as the API wrote it: its code, then its message. */
export const ErrorNote = ({ error, prefix }: { error: Pick<ApiError, "code" | "message"> | null | undefined; prefix?: string }) =>
  error ? (
    <p className="error" role="alert">
      {prefix ? `${prefix}: ` : null}
      <code>{error.code}</code> {error.message}
    </p>
  ) : null;

/** An entity's stored error (`{code, message}`), inline in a table or a list. */
export const ErrorCode = ({ error }: { error: { code: string; message: string | null } | null | undefined }) =>
  error ? (
    <span className="error-code">
      <code>{error.code}</code>
      {error.message ? ` ${error.message}` : null}
    </span>
  ) : (
    <span className="muted">—</span>
  );

export const Loading = ({ what }: { what: string }) => (
  <p className="muted" role="status">
    Loading {what}…
  </p>
);

/** A wide table scrolls sideways on a narrow screen; the region is focusable so the keyboard can scroll it. */
export const TableScroll = ({ label, children }: { label: string; children: ReactNode }) => (
  <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
    {children}
  </div>
);

export const Json = ({ value }: { value: unknown }) => <pre className="json">{JSON.stringify(value, null, 2)}</pre>;

/** A labelled facts list: term, value. */
export const Facts = ({ items }: { items: [string, ReactNode][] }) => (
  <dl className="facts">
    {items.map(([term, value]) => (
      <div key={term}>
        <dt>{term}</dt>
        <dd>{value}</dd>
      </div>
    ))}
  </dl>
);

/** The countdown to the next question after a 202, to the second. */
export const AskingAgain = ({ at }: { at: number }) => {
  const now = useNow(1_000);
  return <span className="muted">Asking again in {Math.max(0, Math.ceil((at - now) / 1000))} s.</span>;
};
