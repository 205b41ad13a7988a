import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { ApiError, errorJson } from "./api-error.ts";

const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: "unsupported_media_type" },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "payload_too_large" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "empty_body" },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: "invalid_json" },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { status: 415, code: "unsupported_media_type" },
};

/** Every error leaves as `{error: {code, message}}`; unexpected ones are logged and hidden. */
export const registerErrorHandling = (app: FastifyInstance): void => {
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      return reply.code(error.statusCode).headers(error.headers).send(errorJson(error.code, error.message));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = error.validation
        .map((issue) => `${issue.instancePath.replace(/^\//, "").replace(/\//g, ".") || error.validationContext || "request"}: ${issue.message}`)
        .join("; ");
      return reply.code(400).send(errorJson("invalid_request", `${error.validationContext ?? "request"} is invalid: ${issues}`));
    }
    const known = FASTIFY_CODES[error.code];
    if (known) return reply.code(known.status).send(errorJson(known.code, error.message));
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send(errorJson((error.code ?? "bad_request").toLowerCase(), error.message));
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send(errorJson("internal_error", "the request failed on our side; it is logged"));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorJson("route_not_found", `no route ${request.method} ${request.url.split("?")[0]}`));
  });
};
