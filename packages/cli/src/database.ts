import { migrateDatabase } from "@callflow/db";
import pg from "pg";

/** The database named in `url` exists and is migrated: `callflow up` runs against a fresh Postgres. */
export async function prepareDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Postgres is not reachable at ${redactUrl(url)} (${(error as Error).message}); start it with scripts/services.sh`);
  }
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  await migrateDatabase(url);
}

export const redactUrl = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]+@/, "//$1:***@");
