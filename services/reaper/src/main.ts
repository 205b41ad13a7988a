import { reaperConfigFromEnv, start } from "./index.ts";

// The reaper as its own process: configuration from the environment, stop on SIGTERM.
await start(reaperConfigFromEnv(), { handleSignals: true });
