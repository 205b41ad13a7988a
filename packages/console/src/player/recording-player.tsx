import { useEffect, useState, type RefObject } from "react";
import { useArtifact } from "../api/artifact.ts";
import { errorOf } from "../api/client.ts";
import { useSession } from "../session.tsx";
import { ArtifactNote } from "../ui/artifact-note.tsx";
import { recordingTransport } from "./recording-transport.ts";

// The question asks for one byte: a ready answer (206) costs nothing, and the element streams the rest.
const PROBE = { range: "bytes=0-0" };
const discardBody = async (response: Response): Promise<true> => {
  await response.body?.cancel();
  return true;
};

/**
 * A call's recording, following GET /v1/calls/{id}/recording exactly: 200 plays; 202 shows the
 * body's message ("being prepared (attempt 2/3)") and asks again after Retry-After; 404 says there is
 * no recording and stops; any other answer shows its code and message and stops. It asks again on
 * its own only after a 202, so it cannot loop.
 */
export const RecordingPlayer = ({
  callId,
  audioRef,
  onPlayable,
}: {
  callId: string;
  audioRef: RefObject<HTMLAudioElement | null>;
  /** Told when the audio element is there to seek (and when it is gone). */
  onPlayable: (playable: boolean) => void;
}) => {
  const { api } = useSession();
  const path = `/v1/calls/${encodeURIComponent(callId)}/recording`;
  const { state, askAgain } = useArtifact(api, path, discardBody, PROBE);

  return (
    <div className="player" data-state={state.kind}>
      {state.kind === "ready" ? (
        <ReadyRecording path={path} audioRef={audioRef} onPlayable={onPlayable} />
      ) : (
        <ArtifactNote state={state} what="recording" askAgain={askAgain} />
      )}
    </div>
  );
};

/** The audio element, given the API's URL to stream or the downloaded recording. */
const ReadyRecording = ({ path, audioRef, onPlayable }: { path: string; audioRef: RefObject<HTMLAudioElement | null>; onPlayable: (playable: boolean) => void }) => {
  const { api } = useSession();
  const [source, setSource] = useState<{ src: string } | { error: string } | null>(null);
  const [playError, setPlayError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    let objectUrl: string | undefined;
    const load = async () => {
      if ((await recordingTransport()) === "stream") return setSource({ src: path });
      const response = await api.fetch(path, { signal: controller.signal });
      if (!response.ok) {
        const error = await errorOf(response);
        return setSource({ error: `${error.code}: ${error.message}` });
      }
      objectUrl = URL.createObjectURL(await response.blob());
      if (!controller.signal.aborted) setSource({ src: objectUrl });
    };
    load().catch((error: unknown) => {
      if (!controller.signal.aborted) setSource({ error: error instanceof Error ? error.message : String(error) });
    });
    return () => {
      controller.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [api, path]);

  const playable = source !== null && "src" in source;
  useEffect(() => {
    onPlayable(playable);
    return () => onPlayable(false);
  }, [playable, onPlayable]);

  if (source === null) return <p className="muted">Loading the recording…</p>;
  if ("error" in source) return <p className="error">The recording could not be loaded: {source.error}</p>;
  return (
    <>
      {/* A failed element shows why and stays stopped: nothing asks again behind the reader's back. */}
      <audio ref={audioRef} controls preload="metadata" src={source.src} aria-label="Call recording" onError={() => setPlayError("The recording could not be played by this browser or stopped loading.")} />
      {playError ? <p className="error">{playError}</p> : null}
    </>
  );
};
