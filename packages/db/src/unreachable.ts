/**
 * Whether an error says Postgres could not be reached (or is restarting), as opposed to a database
 * that answered: a refused or timed-out connection is worth waiting out, a wrong password or a
 * missing migration is not.
 */

// Prisma: P1001 can't reach, P1002 timed out, P1017 server closed the connection.
const PRISMA_CODES = new Set(["P1001", "P1002", "P1017"]);
// What @prisma/adapter-pg calls a socket that failed (its DriverAdapterError's `kind`).
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout"]);
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);
// 57P01 admin shutdown ("terminating connection"), 57P02 crash shutdown, 57P03 "the database system
// is starting up" (or shutting down); class 08 is a connection exception.
const isTransientSqlState = (code: string): boolean => /^57P0[123]$/.test(code) || /^08[0-9A-Z]{3}$/.test(code);
// node-postgres reports its own connection timeout and a dropped socket without a code.
const PG_MESSAGES = /Connection terminated|timeout expired|Can't reach database server/i;

const MAX_DEPTH = 8;

export function isDatabaseUnreachable(error: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH || typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; kind?: unknown; originalCode?: unknown; message?: unknown; meta?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === "string" && (PRISMA_CODES.has(e.code) || SOCKET_CODES.has(e.code) || isTransientSqlState(e.code))) return true;
  if (typeof e.kind === "string" && ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.originalCode === "string" && isTransientSqlState(e.originalCode)) return true;
  const adapter = (e.meta as { driverAdapterError?: { cause?: unknown } } | undefined)?.driverAdapterError;
  if (adapter && isDatabaseUnreachable(adapter.cause, depth + 1)) return true;
  // A Prisma P2010 (raw query failed) carries the adapter's verdict in meta; other Prisma codes
  // (unique violations, missing tables) answered, so their messages are not read.
  if (typeof e.message === "string" && (typeof e.code !== "string" || e.code === "P2010" || !e.code.startsWith("P")) && PG_MESSAGES.test(e.message)) return true;
  if (e.cause !== undefined && isDatabaseUnreachable(e.cause, depth + 1)) return true;
  return Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnreachable(inner, depth + 1));
}
