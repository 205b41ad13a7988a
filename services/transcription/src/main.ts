import { start, transcriptionConfigFromEnv } from "./index.ts";

// The transcription worker as its own process: configuration from the environment, stop on SIGTERM.
await start(transcriptionConfigFromEnv(), { handleSignals: true });
