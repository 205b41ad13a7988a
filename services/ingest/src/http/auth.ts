import type { FastifyInstance, FastifyRequest } from "fastify";
import { ADMIN_SCOPE, hashApiKey, type ApiKeyLookup, type Principal } from "../auth/api-keys.ts";
import { ApiError } from "./api-error.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the auth hook on every route that is not public. */
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** No API key: ops endpoints, docs, provider webhooks (they check their own signatures). */
    public?: boolean;
    /** A scope the key must hold, e.g. "admin". */
    scope?: string;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Authenticates every non-public route with `Authorization: Bearer <api key>`. */
export const registerAuth = (app: FastifyInstance, lookup: ApiKeyLookup): void => {
  app.decorateRequest("principal", undefined);
  app.addHook("onRequest", async (request) => {
    const config = request.routeOptions.config;
    if (config.public || request.routeOptions.url?.startsWith("/docs")) return;
    const match = BEARER.exec(request.headers.authorization ?? "");
    if (!match) {
      throw new ApiError(401, "unauthenticated", "send an API key as `Authorization: Bearer <key>`", {
        "www-authenticate": 'Bearer realm="callflow"',
      });
    }
    const principal = await lookup.findActive(hashApiKey(match[1]!));
    if (!principal) {
      throw new ApiError(401, "invalid_api_key", "the API key is unknown or revoked", { "www-authenticate": 'Bearer realm="callflow", error="invalid_token"' });
    }
    if (config.scope && !principal.scopes.includes(config.scope)) {
      throw new ApiError(403, "insufficient_scope", `this operation needs the "${config.scope}" scope`);
    }
    request.principal = principal;
  });
};

/** The caller's principal; routes that reach their handler always have one. */
export const principalOf = (request: FastifyRequest): Principal => {
  if (!request.principal) throw new ApiError(401, "unauthenticated", "this route needs an API key");
  return request.principal;
};

export const tenantOf = (request: FastifyRequest): string => principalOf(request).tenantId;

export const isAdmin = (principal: Principal): boolean => principal.scopes.includes(ADMIN_SCOPE);
