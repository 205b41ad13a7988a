import { z } from "zod";

/**
 * An answer the API gives on purpose. `code` is stable snake case (clients branch on it); the
 * message is for humans. Everything else that escapes a handler is a 500 `internal_error`.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (what: string, id?: string): ApiError =>
  new ApiError(404, `${what}_not_found`, id === undefined ? `${what.replace(/_/g, " ")} not found` : `${what.replace(/_/g, " ")} ${id} not found`);

export const conflict = (code: string, message: string): ApiError => new ApiError(409, code, message);

export const errorBody = z.object({
  error: z.object({
    code: z.string().describe("Stable snake_case code, e.g. unsupported_audio"),
    message: z.string(),
    stage: z.string().optional().describe("For a failed artifact: the stage that failed"),
  }),
});

export type ErrorBody = z.infer<typeof errorBody>;

export const errorJson = (code: string, message: string): ErrorBody => ({ error: { code, message } });

/** Response schemas for the error statuses a route can answer, for the OpenAPI document. */
export const errorResponses = (...statuses: number[]): Record<number, typeof errorBody> =>
  Object.fromEntries(statuses.map((status) => [status, errorBody]));
