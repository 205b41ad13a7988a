import { afterEach, describe, expect, it } from "vitest";
import { createEmptyDatabase, createTestDatabase, testInfraUrls } from "../src/index.ts";
import { ACTIVE_DIAL_STATUSES, assertMigrated, createDb, expectedMigrations, FINISHED_DIAL_STATUSES, migrateDatabase, MigrationDriftError, schemaChangesSinceMigrations, type Db } from "@callflow/db";

describe("migrations", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function emptyDatabase(): Promise<{ url: string; db: Db }> {
    const empty = await createEmptyDatabase(testInfraUrls().postgres);
    const db = createDb(empty.url, { poolSize: 2 });
    cleanups.push(empty.drop, () => db.$disconnect());
    return { url: empty.url, db };
  }

  it("apply to an empty database and leave it matching the code", async () => {
    const { url, db } = await emptyDatabase();
    await expect(assertMigrated(db)).rejects.toThrow(MigrationDriftError);

    await migrateDatabase(url);

    await expect(assertMigrated(db)).resolves.toBeUndefined();
    const tables = await db.$queryRaw<{ table_name: string }[]>`
      SELECT table_name::text AS table_name FROM information_schema.tables WHERE table_schema = 'public'`;
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(["tenants", "api_keys", "calls", "chunks", "stage_runs", "transcripts", "summaries", "merged_recordings", "dials", "dial_events", "do_not_call", "outbox", "inbox", "dead_letters", "audit_log"]),
    );
  });

  it("say everything schema.prisma says: db:diff finds nothing to migrate", async () => {
    const { url } = await emptyDatabase();
    expect(await schemaChangesSinceMigrations(url)).toBe("");
  });

  it("give the dials the partial unique index the schema cannot express, over exactly the active statuses", async () => {
    const migrated = await createTestDatabase(testInfraUrls().postgres);
    cleanups.push(migrated.drop);
    const [index] = await migrated.db.$queryRaw<{ indexdef: string }[]>`SELECT indexdef FROM pg_indexes WHERE indexname = 'dials_active_dedup_key'`;
    expect(index?.indexdef).toMatch(/^CREATE UNIQUE INDEX dials_active_dedup_key ON public\.dials USING btree \(tenant_id, dedup_key\) WHERE/);
    const predicate = index!.indexdef.slice(index!.indexdef.indexOf(" WHERE "));
    for (const status of ACTIVE_DIAL_STATUSES) expect(predicate).toContain(`'${status}'`);
    for (const status of FINISHED_DIAL_STATUSES) expect(predicate).not.toContain(`'${status}'`);
  });

  it("drift check names a migration the database is missing", async () => {
    const { url, db } = await emptyDatabase();
    await migrateDatabase(url);
    const latest = (await expectedMigrations()).at(-1)!;
    await db.$executeRaw`DELETE FROM _prisma_migrations WHERE migration_name = ${latest}`;

    const error = await assertMigrated(db).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationDriftError);
    expect((error as MigrationDriftError).missing).toEqual([latest]);
    expect((error as Error).message).toContain(`not applied: ${latest}`);
    expect((error as Error).message).toContain("pnpm db:migrate");
  });

  it("drift check names a migration the code does not know (database ahead of code)", async () => {
    const { url, db } = await emptyDatabase();
    await migrateDatabase(url);
    await db.$executeRaw`
      INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at, applied_steps_count)
      VALUES ('future', 'x', '29991231000000_from_the_future', now(), 1)`;

    await expect(assertMigrated(db)).rejects.toThrow(/unknown to this code.*29991231000000_from_the_future/);
  });
});
