import { useArtifact } from "../../api/artifact.ts";
import type { Transcript, TranscriptSegment } from "../../api/types.ts";
import { useSession } from "../../session.tsx";
import { formatOffset } from "../../ui/format.ts";
import { ArtifactNote } from "../../ui/artifact-note.tsx";

const readJson = async (response: Response): Promise<Transcript> => (await response.json()) as Transcript;

/** The segments the API stored, those with text; anything else in the array is left out. */
export const segmentsOf = (segments: unknown): TranscriptSegment[] =>
  Array.isArray(segments)
    ? segments.filter(
        (segment): segment is TranscriptSegment =>
          typeof segment === "object" && segment !== null && typeof (segment as TranscriptSegment).text === "string" && typeof (segment as TranscriptSegment).start === "number",
      )
    : [];

const speakerOf = (segment: TranscriptSegment): string | null => {
  if (segment.speaker === undefined || segment.speaker === null || segment.speaker === "") return null;
  return typeof segment.speaker === "number" ? `Speaker ${segment.speaker + 1}` : String(segment.speaker);
};

/**
 * The transcript, segment by segment with its times (and its speaker where the provider told one).
 * With a playable recording, a segment's time plays the recording from there.
 */
export const TranscriptView = ({ callId, onSeek }: { callId: string; onSeek: ((seconds: number) => void) | null }) => {
  const { api } = useSession();
  const { state, askAgain } = useArtifact(api, `/v1/calls/${encodeURIComponent(callId)}/transcript`, readJson);
  if (state.kind !== "ready") return <ArtifactNote state={state} what="transcript" askAgain={askAgain} />;
  const transcript = state.value;
  const segments = segmentsOf(transcript.segments).filter((segment) => segment.text.trim() !== "");
  return (
    <>
      {transcript.partial ? (
        <p className="notice">
          Partial transcript: chunk{transcript.missingChunkIndexes.length === 1 ? "" : "s"} {transcript.missingChunkIndexes.join(", ")} could not be transcribed.
        </p>
      ) : null}
      {segments.length === 0 ? (
        <p className="transcript-text">{transcript.text || <span className="muted">The transcript is empty (no speech was recognised).</span>}</p>
      ) : (
        <ol className="transcript">
          {segments.map((segment, index) => {
            const speaker = speakerOf(segment);
            const time = `${formatOffset(segment.start)}–${formatOffset(segment.end)}`;
            return (
              <li key={index}>
                {onSeek ? (
                  <button type="button" className="offset" onClick={() => onSeek(segment.start)} aria-label={`Play from ${formatOffset(segment.start)}`}>
                    {time}
                  </button>
                ) : (
                  <span className="offset">{time}</span>
                )}
                {speaker ? <span className="speaker">{speaker}</span> : null}
                <span className="text">{segment.text}</span>
              </li>
            );
          })}
        </ol>
      )}
    </>
  );
};
