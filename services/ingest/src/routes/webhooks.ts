import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Commit } from "../calls/commit.ts";
import { ApiError, errorResponses } from "../http/api-error.ts";
import { digestOf, recordProviderCallback } from "../webhooks/callbacks.ts";
import { dialCallbackOf } from "../webhooks/twilio-dial-callback.ts";

export interface WebhookDeps {
  commit: Commit;
  /** The externally visible base URL Twilio was given; absent: rebuilt from the request (proxy headers trusted). */
  publicUrl: string | undefined;
  twilioAuthToken: string | undefined;
  assemblyAi: { header: string; secret: string | undefined };
}

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

// The SDK's webhook module alone costs ~9 MB of heap: loaded on the first Twilio callback, not at start.
let twilioWebhooks: Promise<typeof import("twilio/lib/webhooks/webhooks.js")> | undefined;
const validateTwilioRequest = async (token: string, signature: string, url: string, params: Record<string, string>) => {
  twilioWebhooks ??= import("twilio/lib/webhooks/webhooks.js");
  return (await twilioWebhooks).validateRequest(token, signature, url, params);
};

const notConfigured = (provider: string) => new ApiError(404, "webhook_not_configured", `the ${provider} webhook is not configured on this deployment`);

/** Provider webhooks: signatures checked, callbacks recorded durably, duplicates harmless. */
export const webhookRoutes =
  (deps: WebhookDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 64 * 1024 }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });
    const config = { public: true, rateLimit: false } as const;

    app.post(
      "/v1/webhooks/twilio",
      {
        config,
        schema: {
          summary: "Twilio status and recording callbacks (X-Twilio-Signature checked)",
          tags: ["webhooks"],
          headers: z.object({ "x-twilio-signature": z.string().optional() }),
          body: z.record(z.string(), z.string()),
          response: { 200: z.string().describe("Empty TwiML"), ...errorResponses(403, 404) },
        },
      },
      async (request, reply) => {
        if (!deps.twilioAuthToken) throw notConfigured("Twilio");
        // request.url keeps the query: Twilio signs the URL with it, and the dial's marker is in it.
        const url = `${deps.publicUrl ?? `${request.protocol}://${request.host}`}${request.url}`;
        const signature = request.headers["x-twilio-signature"];
        if (!signature || !(await validateTwilioRequest(deps.twilioAuthToken, signature, url, request.body))) {
          throw new ApiError(403, "invalid_signature", "X-Twilio-Signature does not match this request");
        }
        const params = request.body;
        await recordProviderCallback(deps.commit, {
          provider: "twilio",
          dedupKey: digestOf(url, params),
          externalId: params.CallSid,
          kind: params.RecordingSid ? `recording.${params.RecordingStatus ?? "unknown"}` : `call.${params.CallStatus ?? "unknown"}`,
          payload: params,
          dial: dialCallbackOf(url, params),
        });
        return reply.code(200).header("content-type", "text/xml").send("<Response/>");
      },
    );

    app.post(
      "/v1/webhooks/assemblyai",
      {
        config,
        schema: {
          summary: "AssemblyAI transcript webhooks (the configured auth header checked)",
          tags: ["webhooks"],
          body: z.looseObject({ transcript_id: z.string().min(1), status: z.string().min(1) }),
          response: { 200: z.object({ received: z.boolean() }), ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => {
        const { header, secret } = deps.assemblyAi;
        if (!secret) throw notConfigured("AssemblyAI");
        const given = request.headers[header];
        if (typeof given !== "string" || !sameSecret(given, secret)) {
          throw new ApiError(403, "invalid_webhook_auth", `the ${header} header does not match`);
        }
        const { transcript_id: transcriptId, status } = request.body;
        await recordProviderCallback(deps.commit, {
          provider: "assemblyai",
          dedupKey: `${transcriptId}:${status}`,
          externalId: transcriptId,
          kind: `transcript.${status}`,
          payload: request.body as Record<string, string>,
        });
        return { received: true };
      },
    );
  };
