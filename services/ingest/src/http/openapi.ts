import type { FastifyInstance, FastifySchema } from "fastify";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * The OpenAPI request body of a route whose body is a stream the handler reads itself (audio,
     * tus): documented here because a validated body schema would make Fastify buffer it.
     */
    openapiBody?: { description: string; content: Record<string, { schema: Record<string, unknown> }> };
  }
}

export const binaryBody = (description: string, mediaTypes: string[]) => ({
  description,
  content: Object.fromEntries(mediaTypes.map((type) => [type, { schema: { type: "string", format: "binary" } }])),
});

/** The OpenAPI document, generated from the routes' zod schemas: JSON at /docs/json, the UI at /docs. */
export const registerOpenApi = async (app: FastifyInstance, options: { version: string; publicUrl: string | undefined }): Promise<void> => {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Callflow API",
        version: options.version,
        description:
          "Call recordings in; transcripts, summaries and recordings out. Errors are `{error: {code, message}}`. " +
          "Artifacts answer 200 when ready, 202 with Retry-After while work progresses, 404 when they will never exist, " +
          "and a terminal error with the stage's error code once processing failed for good.",
      },
      servers: options.publicUrl ? [{ url: options.publicUrl }] : [],
      components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "An API key of your tenant" } } },
      security: [{ apiKey: [] }],
    },
    transform: (input) => {
      const transformed = jsonSchemaTransform(input);
      const body = input.route.config?.openapiBody;
      const schema: FastifySchema & { security?: unknown } = { ...transformed.schema };
      if (body) schema.body = body;
      if (input.route.config?.public) schema.security = [];
      return { ...transformed, schema };
    },
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs", uiConfig: { deepLinking: true } });
};
