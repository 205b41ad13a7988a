import { useId } from "react";
import { queryOf } from "../../api/client.ts";
import type { DialSummary, Page } from "../../api/types.ts";
import { Link } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { Badge, ErrorCode, ErrorNote, Loading, TableScroll, Time } from "../../ui/components.tsx";
import { shortId } from "../../ui/format.ts";
import { useLoad } from "../../ui/hooks.ts";
import { Pager, useCursorPages } from "../../ui/pager.tsx";
import { DialForm } from "./dial-form.tsx";

const PAGE_SIZE = 50;
const REFRESH_MS = 3_000;
const STATUSES = ["queued", "scheduled", "placing", "placed", "ringing", "in_progress", "completed", "no_answer", "busy", "failed", "canceled"];

/** The tenant's dials, newest first and live, and the form that places one. */
export const DialsPage = ({ query }: { query: URLSearchParams }) => {
  const { api } = useSession();
  const id = useId();
  const status = query.get("status") ?? "";
  const cursor = query.get("cursor");
  const list = useLoad<Page<DialSummary>>(api, `/v1/dials${queryOf({ status, cursor, limit: PAGE_SIZE })}`, REFRESH_MS);
  const pages = useCursorPages("/console/dials", { status }, cursor);
  const items = list.data?.items ?? [];

  return (
    <>
      <h1 tabIndex={-1}>Dials</h1>
      <section aria-labelledby={`${id}-place`}>
        <h2 id={`${id}-place`}>Place a dial</h2>
        <DialForm />
      </section>
      <section aria-labelledby={`${id}-list`}>
        <h2 id={`${id}-list`}>Dials</h2>
        <div className="filters" role="search" aria-label="Filter dials">
          <div className="field">
            <label htmlFor={`${id}-status`}>Status</label>
            <select id={`${id}-status`} value={status} onChange={(event) => pages.filter({ status: event.target.value })}>
              <option value="">any</option>
              {STATUSES.map((value) => (
                <option key={value} value={value}>
                  {value.replace(/_/g, " ")}
                </option>
              ))}
            </select>
          </div>
        </div>
        <ErrorNote error={list.error} prefix="The dials could not be read" />
        {list.data === undefined && !list.error ? <Loading what="dials" /> : null}
        {list.data ? (
          <>
            <TableScroll label="Dials">
              <table>
                <caption>{items.length === 0 ? "No dials yet." : `${items.length} dial${items.length === 1 ? "" : "s"}, newest first`}</caption>
                <thead>
                  <tr>
                    <th scope="col">Dial</th>
                    <th scope="col">To</th>
                    <th scope="col">Status</th>
                    <th scope="col">Priority</th>
                    <th scope="col">Campaign</th>
                    <th scope="col">Attempt</th>
                    <th scope="col">Requested</th>
                    <th scope="col">Call</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((dial) => (
                    <tr key={dial.id}>
                      <th scope="row">
                        <Link to={`/console/dials/${dial.id}`} title={dial.id} aria-label={`Dial ${dial.id}`}>
                          <code>{shortId(dial.id)}</code>
                        </Link>
                      </th>
                      <td>{dial.to}</td>
                      <td>
                        <Badge value={dial.status} />
                      </td>
                      <td>{dial.priority}</td>
                      <td>{dial.campaign ?? <span className="muted">—</span>}</td>
                      <td>{dial.attempt}</td>
                      <td>
                        <Time iso={dial.createdAt} />
                      </td>
                      <td>{dial.callId ? <Link to={`/console/calls/${dial.callId}`}>{shortId(dial.callId)}</Link> : <span className="muted">—</span>}</td>
                      <td className="wrap">
                        <ErrorCode error={dial.error} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
            <Pager label="Pages of dials" cursor={cursor} nextCursor={list.data.nextCursor} pages={pages} />
          </>
        ) : null}
      </section>
    </>
  );
};
