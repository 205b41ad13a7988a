// The ingest process: configuration from the environment, then start(), then wait for a signal.
import { ingestConfigFromEnv, start } from "./index.ts";

const config = ingestConfigFromEnv();
const ingest = await start(config);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    void ingest.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
