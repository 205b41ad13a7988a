import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import type { Db } from "./client.ts";

// Found by package name rather than relative to this file, so a service bundled into one file
// (scripts/build-service.mjs) still finds the migrations and the Prisma CLI it ships with.
const packageDir = path.dirname(createRequire(import.meta.url).resolve("@callflow/db/package.json"));
export const migrationsDir = path.join(packageDir, "prisma/migrations");

/** The database is not at the migration level this code expects (invariant 9). */
export class MigrationDriftError extends Error {
  override readonly name = "MigrationDriftError";
  constructor(readonly missing: string[], readonly unknown: string[], readonly failed: string[]) {
    const parts: string[] = [];
    if (missing.length) parts.push(`not applied: ${missing.join(", ")}`);
    if (failed.length) parts.push(`failed or rolled back: ${failed.join(", ")}`);
    if (unknown.length) parts.push(`applied but unknown to this code (the code is older than the database): ${unknown.join(", ")}`);
    super(`database schema does not match this code; ${parts.join("; ")}. Run "pnpm db:migrate" (prisma migrate deploy) with this code's migrations.`);
  }
}

/** Migration folder names this code ships, in order. */
export async function expectedMigrations(): Promise<string[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

interface AppliedMigration {
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/** Refuses to let a service start on a database that is behind (or ahead of) its code. */
export async function assertMigrated(db: Db): Promise<void> {
  const expected = await expectedMigrations();
  const exists = await db.$queryRaw<{ present: boolean }[]>`
    SELECT to_regclass('public._prisma_migrations') IS NOT NULL AS present`;
  const applied = exists[0]?.present
    ? await db.$queryRaw<AppliedMigration[]>`
        SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations`
    : [];
  const done = new Set(applied.filter((m) => m.finished_at && !m.rolled_back_at).map((m) => m.migration_name));
  const failed = applied.filter((m) => !m.finished_at || m.rolled_back_at).map((m) => m.migration_name).filter((n) => !done.has(n));
  const missing = expected.filter((name) => !done.has(name));
  const known = new Set(expected);
  const unknown = [...done].filter((name) => !known.has(name)).sort();
  if (missing.length || unknown.length || failed.length) throw new MigrationDriftError(missing, unknown, [...new Set(failed)]);
}

const prismaCli = (args: string[], connectionString: string) =>
  promisify(execFile)(path.join(packageDir, "node_modules/.bin/prisma"), args, {
    cwd: packageDir,
    env: { ...process.env, DATABASE_URL: connectionString },
    timeout: 120_000,
  });

/** Applies this code's migrations with `prisma migrate deploy` (offline WebAssembly engine). */
export async function migrateDatabase(connectionString: string): Promise<void> {
  await prismaCli(["migrate", "deploy"], connectionString).catch((error: { stderr?: string; stdout?: string; message: string }) => {
    throw new Error(`prisma migrate deploy failed: ${error.stderr || error.stdout || error.message}`);
  });
}

/**
 * The SQL a new migration would need for schema.prisma (`db:diff`); empty when the migrations already
 * say everything the schema does. The migrations are replayed into a throwaway shadow database created
 * through `connectionString`, which needs the right to create databases.
 */
export async function schemaChangesSinceMigrations(connectionString: string): Promise<string> {
  const args = ["migrate", "diff", "--from-migrations", "prisma/migrations", "--to-schema-datamodel", "prisma/schema.prisma", "--script", "--exit-code"];
  // --exit-code: 0 when there is nothing to migrate, 2 when there is.
  return prismaCli(args, connectionString).then(
    () => "",
    (error: { code?: number; stdout?: string; stderr?: string; message: string }) => {
      if (error.code === 2 && error.stdout) return error.stdout;
      throw new Error(`prisma migrate diff failed: ${error.stderr || error.stdout || error.message}`);
    },
  );
}
