import type { CallDetail, PhaseTime } from "../../api/types.ts";
import { Badge, ErrorCode, TableScroll, Time } from "../../ui/components.tsx";
import { formatSpan, words } from "../../ui/format.ts";

const spanOf = (from: string | null, to: string | null): number | null => (from && to ? Date.parse(to) - Date.parse(from) : null);

/** The phases of the current audio version, each as wide as the time spent in it. */
export const PhaseBar = ({ phases }: { phases: PhaseTime[] }) => {
  if (phases.length === 0) return null;
  const total = phases.reduce((sum, phase) => sum + phase.durationMs, 0) || 1;
  return (
    <ol className="phase-bar" aria-label="Phases of the current audio version">
      {phases.map((phase) => (
        <li key={`${phase.phase}-${phase.startedAt}`} className={`phase-${phase.phase}${phase.finishedAt ? "" : " open"}`} style={{ flexGrow: Math.max(phase.durationMs / total, 0.08) }}>
          <span className="phase-name">{words(phase.phase)}</span> <span className="phase-time">{formatSpan(phase.durationMs)}</span>
          {phase.finishedAt ? null : <span className="visually-hidden"> (now)</span>}
        </li>
      ))}
    </ol>
  );
};

/** Every stage run of every audio version, with its attempt, its times and its error. */
export const StageTimeline = ({ call }: { call: CallDetail }) => (
  <>
    <TableScroll label="Stage runs">
      <table>
        <caption>Stage runs, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">Stage</th>
            <th scope="col">Audio</th>
            <th scope="col">Status</th>
            <th scope="col">Attempt</th>
            <th scope="col">Queued</th>
            <th scope="col">Waited</th>
            <th scope="col">Ran</th>
            <th scope="col">Last heartbeat</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {call.stages.length === 0 ? (
            <tr>
              <td colSpan={9} className="muted">
                No stage has started yet.
              </td>
            </tr>
          ) : null}
          {call.stages.map((stage) => (
            <tr key={`${stage.stage}-${stage.audioVersion}`} className={stage.audioVersion === call.audioVersion ? undefined : "superseded"}>
              <th scope="row">{stage.stage}</th>
              <td>v{stage.audioVersion}</td>
              <td>
                <Badge value={stage.status} />
              </td>
              <td>{stage.attempt}</td>
              <td>
                <Time iso={stage.queuedAt} />
              </td>
              <td>{formatSpan(spanOf(stage.queuedAt, stage.startedAt))}</td>
              <td>{formatSpan(spanOf(stage.startedAt, stage.finishedAt))}</td>
              <td>
                <Time iso={stage.heartbeatAt} />
              </td>
              <td className="wrap">
                <ErrorCode error={stage.error} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
    <p>
      Chunks of audio version {call.audioVersion}: {call.chunks.received} received
      {call.chunks.expected === null ? " (the upload is not finished)" : ` of ${call.chunks.expected}`}
      {Object.keys(call.chunks.byStatus).length > 0
        ? ` — ${Object.entries(call.chunks.byStatus)
            .map(([status, count]) => `${count} ${status}`)
            .join(", ")}`
        : null}
      .
    </p>
    {call.chunks.failed.length > 0 ? (
      <ul className="failed-chunks" aria-label="Failed chunks">
        {call.chunks.failed.map((chunk) => (
          <li key={chunk.index}>
            Chunk {chunk.index}: <ErrorCode error={chunk.error} />
          </li>
        ))}
      </ul>
    ) : null}
  </>
);
