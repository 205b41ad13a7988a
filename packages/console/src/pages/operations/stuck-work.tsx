import { useId } from "react";
import type { ReaperAction, StuckItem, SweepResult } from "../../api/types.ts";
import { Link } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { Badge, ErrorNote, Loading, TableScroll } from "../../ui/components.tsx";
import { formatSpan, shortId, words } from "../../ui/format.ts";
import { useAction, useLoad, useNow } from "../../ui/hooks.ts";

const REFRESH_MS = 10_000;

/** Work past its deadline now (what the reaper's next sweep would act on), and a sweep: a dry run first, then for real. */
export const StuckWork = () => {
  const { api } = useSession();
  const id = useId();
  const stuck = useLoad<{ items: StuckItem[] }>(api, "/v1/admin/stuck", REFRESH_MS);
  const now = useNow(1_000);
  const sweep = useAction(async (dryRun: boolean) => {
    const { body } = await api.send<SweepResult>("POST", "/v1/admin/reaper/sweep", { dryRun });
    stuck.reload();
    return body;
  });
  const result = sweep.result;
  const items = stuck.data?.items ?? [];

  return (
    <>
      <section aria-labelledby={`${id}-stuck`}>
        <h2 id={`${id}-stuck`}>Stuck now</h2>
        <ErrorNote error={stuck.error} prefix="The stuck work could not be read" />
        {stuck.data === undefined && !stuck.error ? <Loading what="stuck work" /> : null}
        {stuck.data ? (
          <TableScroll label="Stuck work">
            <table className="stuck">
              <caption>{items.length === 0 ? "Nothing is past its deadline." : `${items.length} past their deadline, oldest first`}</caption>
              <thead>
                <tr>
                  <th scope="col">Stage</th>
                  <th scope="col">What</th>
                  <th scope="col">Call</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempt</th>
                  <th scope="col">Age</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {[...items]
                  .sort((a, b) => Date.parse(a.since) - Date.parse(b.since))
                  .map((item) => (
                    <tr key={`${item.entityType}-${item.entityId}`} data-entity-id={item.entityId}>
                      <th scope="row">{item.stage}</th>
                      <td>
                        {words(item.entityType)} <code title={item.entityId}>{shortId(item.entityId)}</code>
                      </td>
                      <td>{item.callId ? <Link to={`/console/calls/${item.callId}`}>{shortId(item.callId)}</Link> : <span className="muted">—</span>}</td>
                      <td>
                        <Badge value={item.status} />
                      </td>
                      <td>{item.attempt ?? "—"}</td>
                      <td title={item.since}>{formatSpan(now - Date.parse(item.since))}</td>
                      <td>
                        <code>{item.reason}</code>
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </TableScroll>
        ) : null}
      </section>

      <section aria-labelledby={`${id}-sweep`}>
        <h2 id={`${id}-sweep`}>Sweep</h2>
        <p>A sweep re-drives or fails what is overdue, as the reaper does on its timer. A dry run shows what it would do and changes nothing.</p>
        <div className="actions">
          <button type="button" disabled={sweep.running} onClick={() => void sweep.run(true)}>
            Dry run
          </button>
          <button type="button" className="danger" disabled={sweep.running || !result?.dryRun} onClick={() => void sweep.run(false)} title={result?.dryRun ? undefined : "Do a dry run first"}>
            Sweep for real
          </button>
        </div>
        <ErrorNote error={sweep.error} prefix="The sweep did not run" />
        {result ? <SweepActions result={result} /> : null}
      </section>
    </>
  );
};

const SweepActions = ({ result }: { result: SweepResult }) => (
  <div className="sweep-result" role="status">
    <p>
      {result.dryRun ? "Dry run" : "Sweep"} <code>{shortId(result.sweepId)}</code> took {formatSpan(result.durationMs)}:{" "}
      {result.actions.length === 0 ? "nothing to do." : `${result.actions.length} action${result.actions.length === 1 ? "" : "s"}${result.dryRun ? " it would take" : ""}.`}
    </p>
    {result.actions.length > 0 ? (
      <TableScroll label={result.dryRun ? "What the sweep would do" : "What the sweep did"}>
        <table>
          <caption>{result.dryRun ? "What the sweep would do" : "What the sweep did"}</caption>
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">What</th>
              <th scope="col">Outcome</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {result.actions.map((action: ReaperAction, index) => (
              <tr key={index} data-entity-id={action.entityId}>
                <th scope="row">
                  <code>{action.kind}</code>
                </th>
                <td>
                  {words(action.entityType)} <code title={action.entityId}>{shortId(action.entityId)}</code>
                </td>
                <td>
                  <Badge value={action.outcome} />
                </td>
                <td className="wrap">{action.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    ) : null}
    {result.errors.map((error) => (
      <p key={error.sweep} className="error">
        {error.sweep}: {error.error}
      </p>
    ))}
  </div>
);
