import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { createDb, migrateDatabase, migrationsDir, type Db } from "@callflow/db";
import { InfrastructureUnavailableError, START_POSTGRES, uniqueSuffix } from "./env.ts";

export interface TestDatabase {
  name: string;
  url: string;
  db: Db;
  drop(): Promise<void>;
}

const TEMPLATE_LOCK = 0x0ca11f10;

const withDatabase = (adminUrl: string, name: string): string => {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

async function connectAdmin(adminUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new InfrastructureUnavailableError("Postgres", adminUrl, error, START_POSTGRES);
  }
  return client;
}

/** A name that changes whenever a migration does, so a stale template is never used. */
async function templateName(): Promise<string> {
  const hash = createHash("sha256");
  for (const name of (await readdir(migrationsDir)).sort()) {
    if (!name.endsWith(".toml")) hash.update(name).update(await readFile(path.join(migrationsDir, name, "migration.sql")));
  }
  return `callflow_tpl_${hash.digest("hex").slice(0, 12)}`;
}

const exists = async (client: pg.Client, name: string) =>
  (await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1;

/** Migrates a template database once per migration set; cloning it is far faster than migrating. */
async function ensureTemplate(client: pg.Client, adminUrl: string): Promise<string> {
  const template = await templateName();
  if (await exists(client, template)) return template;
  await client.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK]);
  try {
    if (await exists(client, template)) return template;
    const building = `${template}_building`;
    await client.query(`DROP DATABASE IF EXISTS "${building}"`);
    await client.query(`CREATE DATABASE "${building}"`);
    await migrateDatabase(withDatabase(adminUrl, building));
    // Renamed only once complete: a crash mid-migration never leaves a half-built template behind.
    await client.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
    return template;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK]);
  }
}

/** Postgres refuses to copy a template another session is copying at that instant: try again. */
async function createFromTemplate(client: pg.Client, name: string, template: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      return;
    } catch (error) {
      const busy = (error as { code?: string }).code === "55006";
      if (!busy || attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
  }
}

/** A freshly migrated database of the test's own; dropped afterwards. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const client = await connectAdmin(adminUrl);
  try {
    const template = await ensureTemplate(client, adminUrl);
    const name = `callflow_t_${uniqueSuffix()}`;
    await createFromTemplate(client, name, template);
    const url = withDatabase(adminUrl, name);
    const db = createDb(url, { poolSize: 4 });
    return {
      name,
      url,
      db,
      drop: async () => {
        await db.$disconnect();
        const admin = await connectAdmin(adminUrl);
        try {
          await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        } finally {
          await admin.end();
        }
      },
    };
  } finally {
    await client.end();
  }
}

/** An empty database (no migrations), for tests of migration itself. */
export async function createEmptyDatabase(adminUrl: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const client = await connectAdmin(adminUrl);
  const name = `callflow_e_${uniqueSuffix()}`;
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: async () => {
      const admin = await connectAdmin(adminUrl);
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
