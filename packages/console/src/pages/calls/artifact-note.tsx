import type { ArtifactState } from "../../api/artifact.ts";
import { sentence } from "../../ui/format.ts";
import { useNow } from "../../ui/hooks.ts";

/** What a transcript or summary section says while its artifact is not there: the API's own words. */
export const ArtifactNote = ({ state, what, askAgain }: { state: Exclude<ArtifactState<unknown>, { kind: "ready" }>; what: string; askAgain: () => void }) => {
  const now = useNow(1_000, state.kind === "pending");
  switch (state.kind) {
    case "asking":
      return <p className="muted">Asking for the {what}…</p>;
    case "pending":
      return (
        <p role="status">
          {sentence(state.message)} <span className="muted">Asking again in {Math.max(0, Math.ceil((state.askAgainAt - now) / 1000))} s.</span>
        </p>
      );
    case "absent":
      return (
        <p>
          This call has no {what}. <span className="muted">({state.code})</span>
        </p>
      );
    case "failed":
      return (
        <p className="error">
          No {what}: <code>{state.code}</code> {state.message}
        </p>
      );
    case "unreachable":
      return (
        <p className="error">
          {state.message}{" "}
          <button type="button" className="secondary" onClick={askAgain}>
            Ask again
          </button>
        </p>
      );
  }
};
