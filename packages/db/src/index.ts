export { createDb, type Db, type DbOptions } from "./client.ts";
export { ACTIVE_DIAL_STATUSES, FINISHED_DIAL_STATUSES } from "./dial-states.ts";
export { assertMigrated, expectedMigrations, migrateDatabase, migrationsDir, MigrationDriftError, schemaChangesSinceMigrations } from "./migrations.ts";
export { isDatabaseUnreachable } from "./unreachable.ts";
export {
  databaseHost,
  DatabaseUnreachableError,
  DEFAULT_DATABASE_WAIT_MS,
  waitForDatabase,
  type DatabaseWaitAttempt,
  type WaitForDatabaseOptions,
} from "./wait-for-database.ts";
export * from "./generated/prisma/client.ts";
