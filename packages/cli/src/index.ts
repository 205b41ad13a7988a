export { createApiClient, ApiRequestError, type CallflowApi, type ProgressEvent } from "./api-client.ts";
export { collectReport, processCall, type CallReport } from "./process-call.ts";
export { createProgressView, type ProgressView } from "./progress-view.ts";
export { renderReport } from "./render-report.ts";
export { SAMPLE_CALL, sampleScript, synthesizeCall } from "./sample-call.ts";
export { startStack, type Stack, type StackOptions } from "./stack.ts";
