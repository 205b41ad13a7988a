import { useState } from "react";
import { queryOf } from "../api/client.ts";
import { navigate } from "../router.tsx";

/**
 * Newest-first cursor pages in the URL (`?cursor=`): "Older" follows the API's nextCursor, "Newer"
 * goes back through the cursors this list came through (to the first page after a shared link).
 */
export const useCursorPages = (path: string, filters: Record<string, string>, cursor: string | null) => {
  // The cursors of the newer pages (null: the first).
  const [trail, setTrail] = useState<(string | null)[]>([]);
  const go = (next: string | null, trailAfter: (string | null)[]) => {
    setTrail(trailAfter);
    navigate(`${path}${queryOf({ ...filters, cursor: next })}`);
  };
  return {
    newer: () => go(trail.at(-1) ?? null, trail.slice(0, -1)),
    older: (nextCursor: string) => go(nextCursor, [...trail, cursor]),
    /** New filters start again from the newest. */
    filter: (values: Record<string, string>) => {
      setTrail([]);
      navigate(`${path}${queryOf(values)}`);
    },
  };
};

export const Pager = ({ label, cursor, nextCursor, pages }: { label: string; cursor: string | null; nextCursor: string | null; pages: ReturnType<typeof useCursorPages> }) => (
  <nav className="pager" aria-label={label}>
    <button type="button" disabled={!cursor} onClick={pages.newer}>
      ← Newer
    </button>
    <button type="button" disabled={!nextCursor} onClick={() => nextCursor && pages.older(nextCursor)}>
      Older →
    </button>
  </nav>
);
