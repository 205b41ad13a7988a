import { useId, useState, type FormEvent } from "react";
import type { Accepted, CallDetail } from "../../api/types.ts";
import { useSession } from "../../session.tsx";
import { ErrorNote } from "../../ui/components.tsx";
import { useAction } from "../../ui/hooks.ts";

/**
 * What the API lets a tenant do to a call: retry a failed call's failed stages, re-run the summary of
 * a transcribed call, trim the audio and process it again. The API decides; its refusal is shown.
 */
export const CallActions = ({ call, onChanged }: { call: CallDetail; onChanged: () => void }) => {
  const { api } = useSession();
  const id = useId();
  const [done, setDone] = useState<string | null>(null);
  const [trimming, setTrimming] = useState(false);
  const [range, setRange] = useState({ start: "", end: "" });
  const base = `/v1/calls/${encodeURIComponent(call.id)}`;
  const action = useAction(async (what: string, path: string, body?: unknown) => {
    setDone(null);
    const { body: accepted } = await api.send<Accepted & { stages?: string[] }>("POST", path, body ?? {});
    setDone(`${what}: the call is ${accepted.status}${accepted.stages ? ` (${accepted.stages.join(", ")} queued)` : ""}.`);
    onChanged();
    return accepted;
  });
  const settled = call.status === "completed" || call.status === "failed";

  const trim = (event: FormEvent) => {
    event.preventDefault();
    void action.run("Trimmed", `${base}/trim`, { startSeconds: Number(range.start), endSeconds: Number(range.end) }).then((accepted) => accepted && setTrimming(false));
  };

  return (
    <section className="actions-panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="visually-hidden">
        Actions
      </h2>
      <div className="actions">
        <button type="button" disabled={action.running || call.status !== "failed"} onClick={() => void action.run("Retried", `${base}/retry`)}>
          Retry failed stages
        </button>
        <button type="button" disabled={action.running || !settled} onClick={() => void action.run("Summary re-run", `${base}/summary/retry`)}>
          Re-run summary
        </button>
        <button type="button" className="secondary" disabled={action.running || !settled} aria-expanded={trimming} aria-controls={`${id}-trim`} onClick={() => setTrimming(!trimming)}>
          Trim audio…
        </button>
      </div>
      {trimming ? (
        <form id={`${id}-trim`} className="inline-form" onSubmit={trim}>
          <div className="field">
            <label htmlFor={`${id}-start`}>Keep from (s)</label>
            <input id={`${id}-start`} type="number" min={0} step="0.1" required value={range.start} onChange={(event) => setRange({ ...range, start: event.target.value })} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-end`}>to (s)</label>
            <input id={`${id}-end`} type="number" min={0} step="0.1" required value={range.end} onChange={(event) => setRange({ ...range, end: event.target.value })} />
          </div>
          <button type="submit" disabled={action.running}>
            Trim and process again
          </button>
        </form>
      ) : null}
      <ErrorNote error={action.error} prefix="The API refused" />
      {done ? (
        <p className="notice" role="status">
          {done}
        </p>
      ) : null}
    </section>
  );
};
