import type { Browser, Page } from "playwright-core";
import { builtConsole } from "@callflow/console/build";
import { createApiKey } from "@callflow/ingest";
import {
  createTestBucket,
  createTestDatabase,
  createTestNamespace,
  test as infra,
  testInfraUrls,
  type TestBucket,
  type TestDatabase,
  type TestNamespace,
} from "@callflow/testkit";
import { startStack, type Stack } from "../../../src/stack.ts";
import { pipelineEnv } from "../../support/pipeline-env.ts";
import { launchChromium } from "./chromium.ts";

export interface ConsoleStack {
  stack: Stack;
  /** The API, and the console under it at /console. */
  url: string;
  /** The development tenant's admin key (`callflow up`'s). */
  adminKey: string;
  tenantId: string;
  database: TestDatabase;
  messaging: TestNamespace;
  storage: TestBucket;
  /** A key of the development tenant with these scopes. */
  createKey(scopes: string[]): Promise<string>;
}

/**
 * The whole stack on the embedded defaults, in this process as `callflow up` runs it, on a database,
 * JetStream namespace and bucket of its own, serving the console built from the tree. The reaper's
 * timer only reports (dry run) and rarely runs, so what a test sets up stays until the test acts on it.
 */
export const startConsoleStack = async (env: Record<string, string> = {}): Promise<ConsoleStack & { stop(): Promise<void> }> => {
  const [consoleDirectory, database, messaging, storage] = await Promise.all([
    builtConsole(),
    createTestDatabase(testInfraUrls().postgres),
    createTestNamespace(testInfraUrls().nats),
    createTestBucket(testInfraUrls().s3),
  ]);
  let stack: Stack | undefined;
  try {
    stack = await startStack(
      {
        ...process.env,
        ...pipelineEnv(database, messaging, storage),
        CALLFLOW_INGEST_CONSOLE_DIR: consoleDirectory,
        CALLFLOW_REAPER_DRY_RUN: "true",
        CALLFLOW_REAPER_INTERVAL_MS: "3600000",
        ...env,
      },
      { randomPorts: true },
    );
  } catch (error) {
    await Promise.allSettled([database.drop(), messaging.cleanup(), storage.cleanup()]);
    throw error;
  }
  const running = stack;
  return {
    stack: running,
    url: running.apiUrl,
    adminKey: running.apiKey,
    tenantId: running.tenantId,
    database,
    messaging,
    storage,
    createKey: async (scopes) => (await createApiKey(database.db, { tenantId: running.tenantId, name: `console test ${scopes.join(" ") || "tenant"}`, scopes })).key,
    stop: async () => {
      await running.stop();
      await Promise.allSettled([database.drop(), messaging.cleanup(), storage.cleanup()]);
    },
  };
};

/**
 * testkit's `test` with, per test file, one running stack serving the console and one browser; each
 * test gets a fresh browser context (its own session storage) and page.
 */
export const test = infra.extend<{ consoleStack: ConsoleStack; browser: Browser; page: Page }>({
  consoleStack: [
    async ({}, use) => {
      const running = await startConsoleStack();
      try {
        await use(running);
      } finally {
        await running.stop();
      }
    },
    { scope: "file" },
  ],
  browser: [
    async ({}, use) => {
      const browser = await launchChromium();
      try {
        await use(browser);
      } finally {
        await browser.close();
      }
    },
    { scope: "file" },
  ],
  page: async ({ browser }, use) => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    try {
      await use(page);
    } finally {
      await context.close();
    }
  },
});

/** Signs in through the form, as a person does, and waits for the calls page. */
export const signIn = async (page: Page, url: string, key: string): Promise<void> => {
  await page.goto(`${url}/console/`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Calls" }).waitFor();
};

/** fetch against the stack's API with a key. */
export const apiWith = (url: string, key: string) => (path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string> | undefined) } });

export { describe, expect } from "@callflow/testkit";
