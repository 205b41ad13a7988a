export { startFakeOpenAi, type FakeOpenAi, type FakeOpenAiOptions, type FakeSegment, type FakeTranscriptionRequest } from "./fake-openai.ts";
export {
  startFakeAssemblyAi,
  type FakeAssemblyAi,
  type FakeAssemblyAiJob,
  type FakeAssemblyAiOptions,
  type FakeAssemblyAiWord,
} from "./fake-assemblyai.ts";
export type { ScriptedReply } from "./scripted-replies.ts";
