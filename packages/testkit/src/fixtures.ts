import { test as base } from "vitest";
import { testInfraUrls } from "./env.ts";
import { createTestNamespace, type TestNamespace } from "./nats.ts";
import { createTestDatabase, type TestDatabase } from "./postgres.ts";
import { createTestBucket, type TestBucket } from "./storage.ts";

export interface InfraFixtures {
  /** A migrated Postgres database of this test's own. */
  database: TestDatabase;
  /** A JetStream namespace of this test's own (streams and subjects). */
  messaging: TestNamespace;
  /** An S3 bucket of this test's own. */
  storage: TestBucket;
}

/**
 * `test` with isolated real infrastructure. Fixtures start only when a test names them, and a
 * missing service fails the test with what to start: never a skip.
 */
export const test = base.extend<InfraFixtures>({
  database: async ({}, use) => {
    const database = await createTestDatabase(testInfraUrls().postgres);
    try {
      await use(database);
    } finally {
      await database.drop();
    }
  },
  messaging: async ({}, use) => {
    const namespace = await createTestNamespace(testInfraUrls().nats);
    try {
      await use(namespace);
    } finally {
      await namespace.cleanup();
    }
  },
  storage: async ({}, use) => {
    const bucket = await createTestBucket(testInfraUrls().s3);
    try {
      await use(bucket);
    } finally {
      await bucket.cleanup();
    }
  },
});

export { describe, expect } from "vitest";
