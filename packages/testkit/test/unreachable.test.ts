import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { connectTestNats, createTestDatabase, InfrastructureUnavailableError } from "../src/index.ts";

/** A port nothing listens on: bound, read, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("fixtures without their services", () => {
  it("fail with a message naming Postgres, the address and how to start it", async () => {
    const port = await closedPort();
    const error = await createTestDatabase(`postgresql://postgres:hunter2@127.0.0.1:${port}/postgres`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain(`Postgres is not reachable at postgresql://postgres:***@127.0.0.1:${port}/postgres`);
    expect(message).toContain("pg_ctlcluster");
    expect(message).toContain("CALLFLOW_TEST_DATABASE_URL");
    expect(message).not.toContain("hunter2");
  });

  it("fail with a message naming NATS, the address and how to start it", async () => {
    const port = await closedPort();
    const error = await connectTestNats(`nats://127.0.0.1:${port}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureUnavailableError);
    expect((error as Error).message).toMatch(new RegExp(`NATS is not reachable at nats://127.0.0.1:${port}.*nats-server`));
  });
});
