import type { ApiErrorBody } from "./types.ts";

/** An answer the API gave as `{error: {code, message}}`, or a request that never reached it (status 0). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The error of a non-2xx answer, from its body when it is the API's JSON error. */
export const errorOf = async (response: Response): Promise<ApiError> => {
  const body = (await response.json().catch(() => null)) as Partial<ApiErrorBody> | null;
  const error = body?.error;
  if (error && typeof error.code === "string") return new ApiError(response.status, error.code, error.message ?? "");
  return new ApiError(response.status, `http_${response.status}`, response.statusText || `the API answered ${response.status}`);
};

export interface Api {
  /** The answer as it came: artifact readers branch on its status and headers themselves. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A JSON read; a non-2xx answer is thrown as an ApiError. */
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  /** A JSON request; a non-2xx answer is thrown as an ApiError. */
  send<T>(method: "POST" | "DELETE", path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
}

/**
 * The API with one key, sent as `Authorization: Bearer` on every request (never in a URL). A 401 on
 * any request means the key stopped working (revoked): `onRefused` signs the user out.
 */
export const createApi = (key: string, onRefused: (error: ApiError) => void): Api => {
  const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${key}`);
    let response: Response;
    try {
      response = await fetch(path, { ...init, headers, cache: "no-store" });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError(0, "network_error", "The API could not be reached; check the connection and try again.");
    }
    if (response.status === 401) onRefused(await errorOf(response.clone()));
    return response;
  };
  const json = async <T>(response: Response): Promise<T> => {
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as T;
  };
  return {
    fetch: request,
    get: async (path, signal) => json(await request(path, signal ? { signal } : {})),
    send: async (method, path, body, headers = {}) => {
      const init: RequestInit = body === undefined ? { method, headers } : { method, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) };
      const response = await request(path, init);
      return { status: response.status, body: await json(response) };
    },
  };
};

/** A query string of the values that are set, for list filters. */
export const queryOf = (values: Record<string, string | number | undefined | null>): string => {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined && value !== null && value !== "") query.set(name, String(value));
  const text = query.toString();
  return text ? `?${text}` : "";
};
