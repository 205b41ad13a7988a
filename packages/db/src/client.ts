import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { tracePgModule } from "@callflow/telemetry";
import { PrismaClient } from "./generated/prisma/client.ts";

export type Db = PrismaClient;

export interface DbOptions {
  /** Connections this process may hold; keep small, several services may share one process. */
  poolSize?: number;
  /** Statement timeout in milliseconds: no query waits forever (invariant 7). */
  statementTimeoutMs?: number;
}

// Prisma's driver adapter runs every query through this `pg`: its queries are client spans of the
// request or message they serve (@opentelemetry/instrumentation-pg, applied to this module object).
tracePgModule(pg);

export function createDb(connectionString: string, options: DbOptions = {}): Db {
  // The pool is ours, so its `pg` is the one traced above; the adapter ends it at $disconnect.
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
  });
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  return new PrismaClient({ adapter });
}
