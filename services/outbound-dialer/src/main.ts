import { dialerConfigFromEnv, start } from "./index.ts";

// The outbound dialer as its own process: configuration from the environment, stop on SIGTERM.
await start(dialerConfigFromEnv(), { handleSignals: true });
