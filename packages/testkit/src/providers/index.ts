export { startFakeOpenAi, type FakeOpenAi, type FakeOpenAiOptions, type FakeSegment, type FakeTranscriptionRequest } from "./fake-openai.ts";
export {
  startFakeAssemblyAi,
  type FakeAssemblyAi,
  type FakeAssemblyAiJob,
  type FakeAssemblyAiOptions,
  type FakeAssemblyAiWord,
} from "./fake-assemblyai.ts";
export type { ScriptedReply } from "./scripted-replies.ts";
export { startFakeOpenAiChat, type ChatReply, type FakeChatMessage, type FakeChatRequest, type FakeOpenAiChat, type FakeOpenAiChatOptions } from "./fake-openai-chat.ts";
