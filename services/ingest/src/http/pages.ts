import { z } from "zod";
import { ApiError } from "./api-error.ts";

/**
 * Newest-first pages over rows with (created_at, id). The cursor is the last row's pair, so a page
 * never skips or repeats a row, whatever is inserted meanwhile.
 */

export interface Cursor {
  createdAt: Date;
  id: string;
}

/** The query fields every listing shares; each route adds its own filters. */
export const pageQuery = {
  createdAfter: z.iso.datetime({ offset: true }).optional().describe("Inclusive"),
  createdBefore: z.iso.datetime({ offset: true }).optional().describe("Exclusive"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional().describe("nextCursor of the previous page"),
};

export const encodeCursor = (cursor: Cursor): string =>
  Buffer.from(JSON.stringify({ c: cursor.createdAt.toISOString(), i: cursor.id })).toString("base64url");

export const decodeCursor = (raw: string): Cursor => {
  try {
    const parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as { c?: unknown; i?: unknown };
    const createdAt = new Date(String(parsed.c));
    if (typeof parsed.i !== "string" || !/^[0-9a-f-]{36}$/i.test(parsed.i) || Number.isNaN(createdAt.getTime())) throw new Error("shape");
    return { createdAt, id: parsed.i };
  } catch {
    throw new ApiError(400, "invalid_cursor", "cursor is not one this API returned");
  }
};

export interface PageRequest {
  createdAfter?: Date | undefined;
  createdBefore?: Date | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** The where clause of a page (time range and cursor) and its order; spread into a findMany. */
export const pageWindow = (page: PageRequest) => {
  const cursor = page.cursor ? decodeCursor(page.cursor) : undefined;
  return {
    where: {
      createdAt: {
        ...(page.createdAfter ? { gte: page.createdAfter } : {}),
        ...(page.createdBefore ? { lt: page.createdBefore } : {}),
      },
      ...(cursor ? { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ createdAt: "desc" as const }, { id: "desc" as const }],
    take: page.limit + 1,
  };
};

/** The page of rows fetched with `pageWindow` (one more than the limit, to know whether more follow). */
export const pageOf = <Row extends Cursor, View>(rows: Row[], limit: number, view: (row: Row) => View): { items: View[]; nextCursor: string | null } => {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(view), nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null };
};

/** The query's ISO times as Dates. */
export const pageRequestOf = (query: { createdAfter?: string | undefined; createdBefore?: string | undefined; limit: number; cursor?: string | undefined }): PageRequest => ({
  limit: query.limit,
  cursor: query.cursor,
  createdAfter: query.createdAfter ? new Date(query.createdAfter) : undefined,
  createdBefore: query.createdBefore ? new Date(query.createdBefore) : undefined,
});
