import { useId, useState } from "react";
import type { DeadLetter } from "../../api/types.ts";
import { Link } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { ErrorCode, ErrorNote, Json, Loading, Time } from "../../ui/components.tsx";
import { shortId, words } from "../../ui/format.ts";
import { useAction, useLoad } from "../../ui/hooks.ts";

/** Messages no consumer could process, each with its payload and a replay button. */
export const DeadLetters = () => {
  const { api } = useSession();
  const id = useId();
  const letters = useLoad<{ items: DeadLetter[] }>(api, "/v1/admin/dead-letters?limit=100");
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Dead letters</h2>
      <ErrorNote error={letters.error} prefix="The dead letters could not be read" />
      {letters.data === undefined && !letters.error ? <Loading what="dead letters" /> : null}
      {letters.data?.items.length === 0 ? <p>No dead letters.</p> : null}
      <ol className="dead-letters">
        {letters.data?.items.map((letter) => (
          <DeadLetterItem key={letter.id} letter={letter} onReplayed={letters.reload} />
        ))}
      </ol>
    </section>
  );
};

const DeadLetterItem = ({ letter, onReplayed }: { letter: DeadLetter; onReplayed: () => void }) => {
  const { api } = useSession();
  const [replayedAs, setReplayedAs] = useState<number | null>(null);
  const replay = useAction(async () => {
    const { body } = await api.send<{ streamSequence: number }>("POST", `/v1/admin/dead-letters/${encodeURIComponent(letter.id)}/replay`);
    setReplayedAs(body.streamSequence);
    onReplayed();
    return body;
  });
  const entity = letter.entityType && letter.entityId ? `${words(letter.entityType)} ${shortId(letter.entityId)}` : "no entity";
  return (
    <li className="dead-letter" data-dead-letter-id={letter.id}>
      <h3>
        {letter.event ?? letter.subject} <span className="muted">to {letter.consumer}</span>
      </h3>
      <p>
        <Time iso={letter.createdAt} /> · {words(letter.reason)} after {letter.deliveryCount} deliver{letter.deliveryCount === 1 ? "y" : "ies"} · <ErrorCode error={letter.error} /> ·{" "}
        {letter.entityType === "call" && letter.entityId ? <Link to={`/console/calls/${letter.entityId}`}>{entity}</Link> : entity}
      </p>
      <p className="muted">
        {letter.stream} #{letter.streamSequence} · subject <code>{letter.subject}</code> · replayed {letter.replayCount} time{letter.replayCount === 1 ? "" : "s"}
        {letter.replayedAt ? (
          <>
            , last <Time iso={letter.replayedAt} />
          </>
        ) : null}
      </p>
      <details>
        <summary>Payload</summary>
        {letter.payload === null ? <p className="muted">The message does not decode as {letter.event ?? "a known event"}; its bytes (base64):</p> : null}
        <Json value={letter.payload ?? letter.payloadBase64} />
        {Object.keys(letter.headers).length > 0 ? (
          <>
            <p className="muted">Headers</p>
            <Json value={letter.headers} />
          </>
        ) : null}
      </details>
      <div className="actions">
        <button type="button" disabled={replay.running || letter.subject === ""} onClick={() => void replay.run()} aria-label={`Replay dead letter ${letter.id}`}>
          {replay.running ? "Replaying…" : "Replay"}
        </button>
        {replayedAs !== null ? (
          <span role="status">Replayed: published again as stream sequence {replayedAs}.</span>
        ) : null}
      </div>
      <ErrorNote error={replay.error} prefix="The replay was refused" />
    </li>
  );
};
