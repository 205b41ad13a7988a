import { mergeConfigFromEnv, start } from "./index.ts";

// The merge service as its own process: configuration from the environment, stop on SIGTERM.
await start(mergeConfigFromEnv(), { handleSignals: true });
