import { useRef, useState } from "react";
import { useCallProgress, type ProgressEvent } from "../../api/progress.ts";
import type { CallDetail } from "../../api/types.ts";
import { RecordingPlayer } from "../../player/recording-player.tsx";
import { Link } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { Badge, ErrorCode, ErrorNote, Facts, Json, Loading, Time } from "../../ui/components.tsx";
import { formatBytes, formatOffset, words } from "../../ui/format.ts";
import { useCoalesced, useLoad } from "../../ui/hooks.ts";
import { CallActions } from "./call-actions.tsx";
import { PhaseBar, StageTimeline } from "./stage-timeline.tsx";
import { SummaryView } from "./summary-view.tsx";
import { TranscriptView } from "./transcript-view.tsx";

const SETTLED = new Set(["completed", "failed"]);

const isNews = (event: ProgressEvent, shown: CallDetail): boolean => {
  switch (event.event) {
    case "call":
      return event.data.status !== shown.status || event.data.phase !== shown.phase;
    case "phase":
      return event.data.phase !== shown.phase;
    case "stage":
      return !shown.stages.some(
        (stage) => stage.stage === event.data.stage && stage.audioVersion === event.data.audioVersion && stage.status === event.data.status && stage.attempt === event.data.attempt,
      );
    case "chunks": {
      const counts = (byStatus: Record<string, number>) => JSON.stringify(Object.entries(byStatus).sort(([a], [b]) => a.localeCompare(b)));
      return counts(event.data.byStatus) !== counts(shown.chunks.byStatus);
    }
    case "end":
      return event.data.status !== shown.status;
  }
};

/** One call: where it is (live), its stage timeline, recording, transcript and summary, and what can be done to it. */
export const CallPage = ({ id }: { id: string }) => {
  const { api } = useSession();
  const call = useLoad<CallDetail>(api, `/v1/calls/${encodeURIComponent(id)}`);
  const audio = useRef<HTMLAudioElement | null>(null);
  const [playable, setPlayable] = useState(false);

  // While the call is in flight its progress stream says when to read it again: when it tells of a
  // status, phase, stage run or chunk count the page does not show yet.
  const reload = useCoalesced(call.reload, 300);
  const open = call.data !== undefined && !SETTLED.has(call.data.status);
  useCallProgress(api, open ? [id] : [], (_id, event) => {
    if (!call.data || isNews(event, call.data)) reload();
  });

  if (call.error && !call.data) {
    return (
      <>
        <h1 tabIndex={-1}>Call</h1>
        <ErrorNote error={call.error} prefix={`Call ${id}`} />
        <p>
          <Link to="/console/calls">Back to the calls</Link>
        </p>
      </>
    );
  }
  if (!call.data) return <Loading what="the call" />;
  const c = call.data;
  // Artifacts belong to an audio version; the transcript and summary are asked for again when the
  // call's status moves, the recording when it settles (it keeps to Retry-After in between).
  const version = `v${c.audioVersion}`;
  const seek = (seconds: number) => {
    const element = audio.current;
    if (!element) return;
    element.currentTime = seconds;
    void element.play().catch(() => undefined);
  };

  return (
    <article className="call">
      <p className="breadcrumb">
        <Link to="/console/calls">Calls</Link> /
      </p>
      <h1 tabIndex={-1}>
        Call <code>{c.id}</code>
      </h1>
      <p className="headline">
        <Badge value={c.phase} /> {c.status === "failed" ? <ErrorCode error={c.error} /> : null}
      </p>
      <Facts
        items={[
          ["Status", words(c.status)],
          ["Source", words(c.source)],
          ["Created", <Time iso={c.createdAt} />],
          ["Completed", <Time iso={c.completedAt} />],
          ["Audio", `${formatOffset(c.durationSeconds)} · ${formatBytes(c.sizeBytes)}`],
          ["Audio version", String(c.audioVersion)],
          ["Failure policy", `${c.failurePolicy}${c.partial ? ` (partial: chunks ${c.missingChunkIndexes.join(", ")} missing)` : ""}`],
          ...(c.failedStage ? ([["Failed at", c.failedStage]] as [string, string][]) : []),
        ]}
      />
      <CallActions call={c} onChanged={call.reload} />

      <section aria-labelledby="recording-title">
        <h2 id="recording-title">Recording</h2>
        <RecordingPlayer key={`${version}-${SETTLED.has(c.status)}`} callId={c.id} audioRef={audio} onPlayable={setPlayable} />
      </section>

      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">Stage timeline</h2>
        <PhaseBar phases={c.phases} />
        <StageTimeline call={c} />
      </section>

      <section aria-labelledby="transcript-title">
        <h2 id="transcript-title">Transcript</h2>
        <TranscriptView key={`${version}-${c.status}`} callId={c.id} onSeek={playable ? seek : null} />
      </section>

      <section aria-labelledby="summary-title">
        <h2 id="summary-title">Summary</h2>
        <SummaryView key={`${version}-${c.status}`} callId={c.id} />
      </section>

      {c.lead ? (
        <section aria-labelledby="lead-title">
          <h2 id="lead-title">Lead</h2>
          <Json value={c.lead} />
        </section>
      ) : null}

      {Object.keys(c.metadata).length > 0 ? (
        <section aria-labelledby="metadata-title">
          <h2 id="metadata-title">Metadata</h2>
          <Json value={c.metadata} />
        </section>
      ) : null}
    </article>
  );
};
