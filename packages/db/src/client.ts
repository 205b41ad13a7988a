import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type Db = PrismaClient;

export interface DbOptions {
  /** Connections this process may hold; keep small, several services may share one process. */
  poolSize?: number;
  /** Statement timeout in milliseconds: no query waits forever (invariant 7). */
  statementTimeoutMs?: number;
}

export function createDb(connectionString: string, options: DbOptions = {}): Db {
  const adapter = new PrismaPg({
    connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
  });
  return new PrismaClient({ adapter });
}
