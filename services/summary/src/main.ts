import { start, summaryConfigFromEnv } from "./index.ts";

// The summary worker as its own process: configuration from the environment, stop on SIGTERM.
await start(summaryConfigFromEnv(), { handleSignals: true });
