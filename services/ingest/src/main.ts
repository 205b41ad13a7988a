import { ingestConfigFromEnv, start } from "./index.ts";

// The ingest process: configuration from the environment, then the API until SIGTERM.
await start(ingestConfigFromEnv(), { handleSignals: true });
