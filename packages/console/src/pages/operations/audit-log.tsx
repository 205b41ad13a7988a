import { useId, useState, type FormEvent } from "react";
import { queryOf } from "../../api/client.ts";
import type { AuditEntry } from "../../api/types.ts";
import { useSession } from "../../session.tsx";
import { ErrorNote, Loading, TableScroll, Time } from "../../ui/components.tsx";
import { shortId, words } from "../../ui/format.ts";
import { useLoad } from "../../ui/hooks.ts";

const changeOf = (before: unknown, after: unknown): string => {
  const text = (value: unknown) => (value === null || value === undefined ? "—" : JSON.stringify(value));
  return `${text(before)} → ${text(after)}`;
};

/** What the reaper and operators did, newest first; one entity's history by its id. */
export const AuditLog = () => {
  const { api } = useSession();
  const id = useId();
  const [entityId, setEntityId] = useState("");
  const [draft, setDraft] = useState("");
  const log = useLoad<{ items: AuditEntry[] }>(api, `/v1/admin/audit${queryOf({ entityId, limit: 200 })}`, 15_000);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setEntityId(draft.trim());
  };
  const items = log.data?.items ?? [];
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Audit log</h2>
      <form className="filters" role="search" aria-label="Filter the audit log" onSubmit={submit}>
        <div className="field">
          <label htmlFor={`${id}-entity`}>Entity id</label>
          <input id={`${id}-entity`} type="text" value={draft} onChange={(event) => setDraft(event.target.value)} spellCheck={false} placeholder="a call, chunk, stage run or dial id" />
        </div>
        <div className="actions">
          <button type="submit">Show</button>
        </div>
      </form>
      <ErrorNote error={log.error} prefix="The audit log could not be read" />
      {log.data === undefined && !log.error ? <Loading what="the audit log" /> : null}
      {log.data ? (
        <TableScroll label="Audit log">
          <table className="audit">
            <caption>{items.length === 0 ? "No entries." : `${items.length} newest entries${entityId ? ` for ${entityId}` : ""}`}</caption>
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Action</th>
                <th scope="col">What</th>
                <th scope="col">Actor</th>
                <th scope="col">Reason</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {items.map((entry) => (
                <tr key={entry.id}>
                  <td>
                    <Time iso={entry.at} />
                  </td>
                  <th scope="row">
                    <code>{entry.action}</code>
                    {entry.dryRun ? <span className="tag">dry run</span> : null}
                  </th>
                  <td>
                    {words(entry.entityType)}{" "}
                    <button type="button" className="link-button" title={`Show the history of ${entry.entityId}`} onClick={() => (setDraft(entry.entityId), setEntityId(entry.entityId))}>
                      <code>{shortId(entry.entityId)}</code>
                    </button>
                  </td>
                  <td className="wrap actor">{entry.actor}</td>
                  <td className="wrap">{entry.reason}</td>
                  <td className="wrap change">
                    <code>{changeOf(entry.before, entry.after)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      ) : null}
    </section>
  );
};
