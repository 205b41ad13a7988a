import { useEffect, useState, type ReactNode } from "react";
import type { DialDetail } from "../../api/types.ts";
import { Link } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { Badge, ErrorCode, ErrorNote, Facts, Json, Loading, TableScroll, Time } from "../../ui/components.tsx";
import { formatSpan, shortId, words } from "../../ui/format.ts";
import { useAction, useLoad } from "../../ui/hooks.ts";

const ACTIVE = new Set(["queued", "scheduled", "placing", "placed", "ringing", "in_progress"]);
const REFRESH_MS = 2_000;

/** One dial: its timeline from the request through placing, ringing and the answer, then the call its recording became, and the lead. */
export const DialPage = ({ id }: { id: string }) => {
  const { api } = useSession();
  const path = `/v1/dials/${encodeURIComponent(id)}`;
  // Read again while the dial is active: the API has no progress stream for dials.
  const [active, setActive] = useState(true);
  const dial = useLoad<DialDetail>(api, path, active ? REFRESH_MS : null);
  useEffect(() => {
    if (dial.data) setActive(ACTIVE.has(dial.data.status));
  }, [dial.data]);
  const cancel = useAction(async () => {
    await api.send("POST", `${path}/cancel`);
    dial.reload();
  });
  const d = dial.data;

  if (!d) {
    return (
      <>
        <h1 tabIndex={-1}>Dial</h1>
        {dial.error ? <ErrorNote error={dial.error} prefix={`Dial ${id}`} /> : <Loading what="the dial" />}
      </>
    );
  }
  const start = Date.parse(d.timeline[0]?.at ?? d.createdAt);
  return (
    <article>
      <p className="breadcrumb">
        <Link to="/console/dials">Dials</Link> /
      </p>
      <h1 tabIndex={-1}>
        Dial to {d.to} <Badge value={d.status} />
      </h1>
      <Facts
        items={[
          ["Dial", <code>{d.id}</code>],
          ["From", d.from ?? "the account's default"],
          ["Campaign", d.campaign ?? "—"],
          ["Priority", d.priority],
          ["Attempt", String(d.attempt)],
          ["Max attempts", String(d.maxAttempts)],
          ["Requested", <Time iso={d.createdAt} />],
          ["Next attempt", ACTIVE.has(d.status) ? <Time iso={d.nextAttemptAt} /> : "—"],
          ["Provider call", d.providerCallId ? <code>{d.providerCallId}</code> : "—"],
          ["Recording and call", d.callId ? <Link to={`/console/calls/${d.callId}`}>call {shortId(d.callId)}</Link> : "not yet"],
          ...(d.leadId ? ([["Lead", <code>{d.leadId}</code>]] as [string, ReactNode][]) : []),
          ["Error", <ErrorCode error={d.error} />],
        ]}
      />
      {ACTIVE.has(d.status) ? (
        <div className="actions">
          <button type="button" className="secondary" disabled={cancel.running} onClick={() => void cancel.run()}>
            Cancel dial
          </button>
        </div>
      ) : null}
      <ErrorNote error={cancel.error} prefix="The API refused" />

      <section aria-labelledby="dial-timeline">
        <h2 id="dial-timeline">Timeline</h2>
        <TableScroll label="Dial timeline">
          <table>
            <caption>Every status the dial went through, oldest first{ACTIVE.has(d.status) ? " (updated live)" : ""}</caption>
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Attempt</th>
                <th scope="col">At</th>
                <th scope="col">After</th>
                <th scope="col">Error</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {d.timeline.map((event, index) => (
                <tr key={index}>
                  <th scope="row">{words(event.status)}</th>
                  <td>{event.attempt}</td>
                  <td>
                    <Time iso={event.at} />
                  </td>
                  <td>{formatSpan(Date.parse(event.at) - start)}</td>
                  <td>{event.errorCode ? <code>{event.errorCode}</code> : <span className="muted">—</span>}</td>
                  <td className="wrap">{event.detail ?? <span className="muted">—</span>}</td>
                </tr>
              ))}
              {d.callId ? (
                <tr>
                  <th scope="row">recording → call</th>
                  <td />
                  <td colSpan={4}>
                    <Link to={`/console/calls/${d.callId}`}>call {d.callId}</Link>
                  </td>
                </tr>
              ) : null}
              {d.leadId ? (
                <tr>
                  <th scope="row">lead</th>
                  <td />
                  <td colSpan={4}>
                    <code>{d.leadId}</code>
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </TableScroll>
      </section>
      {Object.keys(d.metadata).length > 0 ? (
        <section aria-labelledby="dial-metadata">
          <h2 id="dial-metadata">Metadata</h2>
          <Json value={d.metadata} />
        </section>
      ) : null}
    </article>
  );
};
