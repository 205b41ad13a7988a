import { useEffect, useRef } from "react";
import { queryOf } from "../../api/client.ts";
import { useCallProgress } from "../../api/progress.ts";
import type { CallSummary, Page } from "../../api/types.ts";
import { Link } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { Badge, ErrorCode, ErrorNote, Loading, TableScroll, Time } from "../../ui/components.tsx";
import { formatOffset, formatSpan, shortId, words } from "../../ui/format.ts";
import { useCoalesced, useLoad } from "../../ui/hooks.ts";
import { Pager, useCursorPages } from "../../ui/pager.tsx";
import { CallFilters, CALL_FILTERS } from "./call-filters.tsx";

const PAGE_SIZE = 50;
/** The list is read again this often; the calls in flight on screen are followed live in between. */
const REFRESH_MS = 5_000;
/** Progress streams open at once: a browser holds six connections per server, and the page needs some. */
const MAX_STREAMS = 3;

const IN_FLIGHT = new Set(["uploading", "processing"]);

/** The time a call has spent in its current phase, or its whole processing time once settled. */
const phaseAge = (call: CallSummary): number | null => {
  const current = call.phases.at(-1);
  if (call.status === "completed" || call.status === "failed") {
    return current?.finishedAt ? Date.parse(current.finishedAt) - Date.parse(call.createdAt) : null;
  }
  return current ? current.durationMs : Date.now() - Date.parse(call.createdAt);
};

export const CallsPage = ({ query }: { query: URLSearchParams }) => {
  const { api } = useSession();
  const filters = Object.fromEntries(CALL_FILTERS.map((name) => [name, query.get(name) ?? ""]));
  const cursor = query.get("cursor");
  const path = `/v1/calls${queryOf({ ...filters, cursor, limit: PAGE_SIZE })}`;
  const list = useLoad<Page<CallSummary>>(api, path, REFRESH_MS);
  const pages = useCursorPages("/console/calls", filters, cursor);

  // A progress event says a call on screen is in another phase than its row shows: read the page
  // again (at most twice a second). The stream's first events only restate the row.
  const reload = useCoalesced(list.reload, 500);
  const items = list.data?.items ?? [];
  const inFlight = items.filter((call) => IN_FLIGHT.has(call.status)).map((call) => call.id);
  useCallProgress(api, inFlight.slice(0, MAX_STREAMS), (id, event) => {
    if ((event.event === "call" || event.event === "phase") && items.find((call) => call.id === id)?.phase !== event.data.phase) reload();
  });

  // The first render of a page of calls, for bench/console.ts.
  const rendered = useRef(false);
  useEffect(() => {
    if (list.data && !rendered.current) {
      rendered.current = true;
      performance.mark("callflow:calls-rendered");
    }
  }, [list.data]);


  return (
    <>
      <h1 tabIndex={-1}>Calls</h1>
      <CallFilters values={filters} onApply={pages.filter} />
      <ErrorNote error={list.error} prefix="The calls could not be read" />
      {list.data === undefined && !list.error ? <Loading what="calls" /> : null}
      {list.data ? (
        <>
          <TableScroll label="Calls">
            <table className="calls">
              <caption>
                {items.length === 0 ? "No calls match these filters." : `${items.length} call${items.length === 1 ? "" : "s"}${cursor ? " (older page)" : ", newest first"}`}
                <span className="live muted"> · updated live</span>
              </caption>
              <thead>
                <tr>
                  <th scope="col">Call</th>
                  <th scope="col">Phase</th>
                  <th scope="col">Source</th>
                  <th scope="col">Created</th>
                  <th scope="col">Audio</th>
                  <th scope="col">Time in phase (or total)</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {items.map((call) => (
                  <tr key={call.id} data-call-id={call.id}>
                    <th scope="row">
                      <Link to={`/console/calls/${call.id}`} title={call.id} aria-label={`Call ${call.id}`}>
                        <code>{shortId(call.id)}</code>
                      </Link>
                    </th>
                    <td className="phase">
                      <Badge value={call.phase} />
                    </td>
                    <td>{words(call.source)}</td>
                    <td>
                      <Time iso={call.createdAt} />
                    </td>
                    <td>{formatOffset(call.durationSeconds)}</td>
                    <td>{formatSpan(phaseAge(call))}</td>
                    <td className="wrap">
                      <ErrorCode error={call.error} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
          <Pager label="Pages of calls" cursor={cursor} nextCursor={list.data.nextCursor} pages={pages} />
        </>
      ) : null}
    </>
  );
};
