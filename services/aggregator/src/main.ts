import { aggregatorConfigFromEnv, start } from "./index.ts";

// The aggregator as its own process: configuration from the environment, stop on SIGTERM.
await start(aggregatorConfigFromEnv(), { handleSignals: true });
