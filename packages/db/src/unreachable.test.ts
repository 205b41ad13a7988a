import { describe, expect, it } from "vitest";
import { Prisma } from "./generated/prisma/client.ts";
import { isDatabaseUnreachable } from "./unreachable.ts";

// The shape @prisma/adapter-pg gives a raw query that failed (as `assertMigrated` sees it).
const rawQueryFailed = (cause: Record<string, unknown>, message = "Raw query failed.") =>
  new Prisma.PrismaClientKnownRequestError(message, { code: "P2010", clientVersion: "6.19.3", meta: { driverAdapterError: { name: "DriverAdapterError", cause } } });

const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: "connect", errno: -111 });

describe("a database error counts as unreachable", () => {
  it.each([
    ["a refused connection (P2010, DatabaseNotReachable)", rawQueryFailed({ kind: "DatabaseNotReachable", host: "127.0.0.1", port: 5432 }, "Can't reach database server at 127.0.0.1:5432")],
    ["a connection reset by a restarting server", rawQueryFailed({ kind: "ConnectionClosed" })],
    ["a socket timeout", rawQueryFailed({ kind: "SocketTimeout" })],
    ["the database system is starting up (57P03)", rawQueryFailed({ kind: "postgres", code: "57P03", originalCode: "57P03", message: "the database system is starting up" })],
    ["terminating connection due to administrator command (57P01)", rawQueryFailed({ kind: "postgres", code: "57P01", originalCode: "57P01", message: "terminating connection due to administrator command" })],
    ["a connection exception (class 08)", rawQueryFailed({ kind: "postgres", code: "08006", originalCode: "08006" })],
    ["Prisma's can't-reach code P1001", new Prisma.PrismaClientKnownRequestError("Can't reach database server", { code: "P1001", clientVersion: "6.19.3" })],
    ["a bare ECONNREFUSED from node-postgres", socketError("ECONNREFUSED")],
    ["a DNS name not (yet) resolvable", socketError("ENOTFOUND")],
    ["node-postgres' connection timeout", new Error("Connection terminated due to connection timeout")],
    ["a socket error wrapped as a cause", new Error("query failed", { cause: socketError("ETIMEDOUT") })],
    ["every address of a host refused", new AggregateError([socketError("ECONNREFUSED"), socketError("ECONNREFUSED")])],
  ])("%s", (_, error) => {
    expect(isDatabaseUnreachable(error)).toBe(true);
  });
});

describe("a database error that answered does not count as unreachable", () => {
  it.each([
    ["a database that does not exist (3D000)", rawQueryFailed({ kind: "DatabaseDoesNotExist", originalCode: "3D000", db: "callflow" })],
    ["a wrong password (28P01)", rawQueryFailed({ kind: "AuthenticationFailed", originalCode: "28P01", user: "callflow" })],
    ["a missing table (42P01)", rawQueryFailed({ kind: "TableDoesNotExist", originalCode: "42P01", table: "calls" })],
    ["a unique violation", new Prisma.PrismaClientKnownRequestError("Unique constraint failed", { code: "P2002", clientVersion: "6.19.3" })],
    ["a migration drift", new Error("database schema does not match this code; not applied: 20260101000000_x")],
    ["a thrown string", "Connection terminated"],
    ["nothing", undefined],
  ])("%s", (_, error) => {
    expect(isDatabaseUnreachable(error)).toBe(false);
  });
});
