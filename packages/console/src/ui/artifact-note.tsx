import type { ReactNode } from "react";
import type { ArtifactState } from "../api/artifact.ts";
import { AskingAgain } from "./components.tsx";
import { sentence } from "./format.ts";

/**
 * What the page says while a transcript, summary or recording is not there, in the API's own words,
 * in a live region so that a screen reader hears it change.
 */
export const ArtifactNote = ({ state, what, askAgain }: { state: Exclude<ArtifactState<unknown>, { kind: "ready" }>; what: string; askAgain: () => void }) => {
  let note: ReactNode;
  switch (state.kind) {
    case "asking":
      note = <p className="muted">Asking for the {what}…</p>;
      break;
    case "pending":
      note = (
        <p>
          {sentence(state.message)} <AskingAgain at={state.askAgainAt} />
        </p>
      );
      break;
    case "absent":
      note = (
        <p>
          No {what} for this call. <span className="muted">({state.code})</span>
        </p>
      );
      break;
    case "failed":
      note = (
        <p className="error">
          No {what}: <code>{state.code}</code> {state.message}
        </p>
      );
      break;
    case "unreachable":
      note = (
        <p className="error">
          {state.message}{" "}
          <button type="button" className="secondary" onClick={askAgain}>
            Ask again
          </button>
        </p>
      );
      break;
  }
  return <div role="status">{note}</div>;
};
