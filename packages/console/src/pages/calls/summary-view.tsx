import { useArtifact } from "../../api/artifact.ts";
import type { Summary } from "../../api/types.ts";
import { useSession } from "../../session.tsx";
import { Facts, Json, Time } from "../../ui/components.tsx";
import { ArtifactNote } from "../../ui/artifact-note.tsx";

const readJson = async (response: Response): Promise<Summary> => (await response.json()) as Summary;

/** The stored shape of a summary (services/summary's summaryContent); another shape is shown as JSON. */
interface SummaryContent {
  summary: string;
  keyPoints: string[];
  actionItems: string[];
  sentiment: string;
  fields: { callerName: string | null; intent: string | null; followUpDate: string | null; callbackNumber: string | null };
}

const isSummaryContent = (content: unknown): content is SummaryContent => {
  const value = content as Partial<SummaryContent> | null;
  return typeof value?.summary === "string" && Array.isArray(value.keyPoints) && Array.isArray(value.actionItems) && typeof value.fields === "object" && value.fields !== null;
};

const List = ({ items, empty }: { items: string[]; empty: string }) =>
  items.length === 0 ? (
    <p className="muted">{empty}</p>
  ) : (
    <ul>
      {items.map((item, index) => (
        <li key={index}>{item}</li>
      ))}
    </ul>
  );

/** The summary with its key points, action items, sentiment and extracted fields. */
export const SummaryView = ({ callId }: { callId: string }) => {
  const { api } = useSession();
  const { state, askAgain } = useArtifact(api, `/v1/calls/${encodeURIComponent(callId)}/summary`, readJson);
  if (state.kind !== "ready") return <ArtifactNote state={state} what="summary" askAgain={askAgain} />;
  const { content, revision, model, createdAt } = state.value;
  const made = (
    <p className="muted">
      Revision {revision}, by {model}, <Time iso={createdAt} />
    </p>
  );
  if (!isSummaryContent(content)) {
    return (
      <>
        {made}
        <Json value={content} />
      </>
    );
  }
  const none = <span className="muted">—</span>;
  return (
    <div className="summary">
      <p className="summary-text">{content.summary}</p>
      <div className="columns">
        <div>
          <h3>Key points</h3>
          <List items={content.keyPoints} empty="None." />
        </div>
        <div>
          <h3>Action items</h3>
          <List items={content.actionItems} empty="None." />
        </div>
        <div>
          <h3>Extracted fields</h3>
          <Facts
            items={[
              ["Sentiment", content.sentiment],
              ["Caller name", content.fields.callerName ?? none],
              ["Intent", content.fields.intent ?? none],
              ["Follow-up date", content.fields.followUpDate ?? none],
              ["Callback number", content.fields.callbackNumber ?? none],
            ]}
          />
        </div>
      </div>
      {made}
    </div>
  );
};
