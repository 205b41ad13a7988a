// The README's main-job command, at this stage of Callflow: it brings the local stack up and checks
// it, then says plainly that the processing services do not exist yet.
import { createDb, assertMigrated, migrateDatabase } from "@callflow/db";
import { openStorage, storageConfigFromEnv } from "@callflow/storage";
import { connect } from "@nats-io/transport-node";
import pg from "pg";

const databaseUrl = process.env.CALLFLOW_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/callflow";
const natsUrl = process.env.CALLFLOW_NATS_URL ?? "nats://127.0.0.1:4222";

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

await ensureDatabase(databaseUrl);
await migrateDatabase(databaseUrl);
const db = createDb(databaseUrl, { poolSize: 1 });
await assertMigrated(db);
await db.$disconnect();
console.log(`✔ Postgres migrated: ${databaseUrl.replace(/\/\/([^:@/]+):[^@/]+@/, "//$1:***@")}`);

const nats = await connect({ servers: natsUrl, timeout: 5_000 });
const jetstreamInfo = await nats.request("$JS.API.INFO", undefined, { timeout: 5_000 });
console.log(`✔ NATS JetStream reachable: ${natsUrl} (${JSON.parse(jetstreamInfo.string()).type ?? "account info"})`);
await nats.close();

const storage = await openStorage(storageConfigFromEnv(process.env));
console.log(`✔ object storage ready: ${storage.endpoint} bucket ${storage.store.bucket}`);
await storage.close();

console.log(
  "\nThe stack is up. Callflow's processing services (ingest, transcription, aggregator, merge, summary)\n" +
    "are not built yet, so this command stops here instead of processing a call. See the README's status section.",
);
