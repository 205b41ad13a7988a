export { createDb, type Db, type DbOptions } from "./client.ts";
export { assertMigrated, expectedMigrations, migrateDatabase, migrationsDir, MigrationDriftError } from "./migrations.ts";
export * from "./generated/prisma/client.ts";
