import { topology } from "@callflow/contracts";
import { describe, expect, test, waitFor } from "@callflow/testkit";
import { SPAN_KIND, startOtlpReceiver, type ReceivedSpan } from "../src/otlp-receiver.ts";
import { settled, shortCall, startTestStack, uploadCall } from "../src/stack-run.ts";

/** The consumers a call passes through, upload to completion. */
const STAGES = ["transcription", "aggregator", "merge", "summary", "completion"] as const;

const ancestry = (span: ReceivedSpan, byId: Map<string, ReceivedSpan>): ReceivedSpan[] => {
  const chain = [span];
  for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) chain.push(parent);
  return chain;
};

describe("one call's trace, exported over OTLP/HTTP", () => {
  test(
    "starts at the upload's HTTP server span and holds every stage's consumer span, with Postgres and S3 client spans under them",
    async ({ database, messaging }) => {
      const receiver = await startOtlpReceiver();
      // The real exporter, chosen from the environment as in production; batches leave every 200 ms.
      const saved = { endpoint: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, delay: process.env.OTEL_BSP_SCHEDULE_DELAY };
      process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = receiver.tracesUrl;
      process.env.OTEL_BSP_SCHEDULE_DELAY = "200";
      const call = await shortCall();
      const stack = await startTestStack({ database, messaging });
      try {
        const callId = await uploadCall(stack, call.audio);
        expect(await settled(stack, callId)).toBe("completed");

        const t = topology(messaging.namespace);
        const durables = new Map(STAGES.map((stage) => [t.consumer(stage).durable, stage]));
        const consumerSpansOf = (spans: readonly ReceivedSpan[]) =>
          spans.filter((span) => span.kind === SPAN_KIND.consumer && durables.has(String(span.attributes["messaging.consumer.group.name"])));
        // The completion consumer runs last; its span ends after the call turned completed.
        await waitFor("every stage's consumer span to be exported", () => new Set(consumerSpansOf(receiver.spans).map((span) => span.attributes["messaging.consumer.group.name"])).size === STAGES.length, {
          timeoutMs: 30_000,
          intervalMs: 100,
        });

        const spans = [...receiver.spans];
        const uploads = spans.filter((span) => span.kind === SPAN_KIND.server && span.name === "POST /v1/calls");
        expect(uploads).toHaveLength(1);
        const root = uploads[0]!;
        expect(root.parentSpanId).toBe("");
        expect(root.attributes["http.request.method"]).toBe("POST");

        const trace = spans.filter((span) => span.traceId === root.traceId);
        const byId = new Map(trace.map((span) => [span.spanId, span]));
        const consumers = consumerSpansOf(spans);
        for (const span of consumers) {
          const stage = durables.get(String(span.attributes["messaging.consumer.group.name"]));
          expect(span.traceId, `the ${stage} consumer span is in the upload's trace`).toBe(root.traceId);
          // Every hop is linked: each span's parents lead back to the upload request.
          expect(ancestry(span, byId).at(-1), `the ${stage} consumer span descends from the upload`).toBe(root);
        }
        expect(new Set(consumers.map((span) => durables.get(String(span.attributes["messaging.consumer.group.name"]))))).toEqual(new Set(STAGES));

        // The request's own work: the call row written through Prisma's pg pool, the audio put into S3.
        const underRoot = (span: ReceivedSpan) => ancestry(span, byId).at(-1) === root;
        const postgres = trace.filter((span) => span.kind === SPAN_KIND.client && span.attributes["db.system.name"] === "postgresql");
        const s3 = trace.filter((span) => span.kind === SPAN_KIND.client && span.attributes["rpc.service"] === "S3");
        expect(postgres.length).toBeGreaterThan(0);
        expect(s3.length).toBeGreaterThan(0);
        expect(postgres.every(underRoot) && s3.every(underRoot)).toBe(true);
        const requestChildren = (span: ReceivedSpan) => ancestry(span, byId).every((step) => step === root || step.kind !== SPAN_KIND.consumer);
        expect(postgres.some(requestChildren), "a query made by the upload request itself").toBe(true);
        expect(s3.some(requestChildren), "an S3 call made by the upload request itself").toBe(true);
        // Each stage works on Postgres and S3 too: a consumer span with client spans below it.
        const merge = consumers.find((span) => durables.get(String(span.attributes["messaging.consumer.group.name"])) === "merge")!;
        expect(s3.some((span) => ancestry(span, byId).includes(merge)), "merge's S3 calls sit under its consumer span").toBe(true);
      } finally {
        await stack.stop();
        await call.cleanup();
        await receiver.close();
        process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = saved.endpoint;
        process.env.OTEL_BSP_SCHEDULE_DELAY = saved.delay;
        if (saved.endpoint === undefined) delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
        if (saved.delay === undefined) delete process.env.OTEL_BSP_SCHEDULE_DELAY;
      }
    },
    300_000,
  );
});
