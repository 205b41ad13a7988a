export { SPAN_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./otlp-receiver.ts";
export { settled, shortCall, startTestStack, uploadCall, type StackFixtures } from "./stack-run.ts";
