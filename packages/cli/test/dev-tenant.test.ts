import { expect, test } from "@callflow/testkit";
import { ensureDevApiKey } from "../src/dev-tenant.ts";

test("the development tenant dials at any hour: its call window is the whole day, and a second start reuses it", async ({ database }) => {
  const { db } = database;
  const first = await ensureDevApiKey(db, undefined);
  const second = await ensureDevApiKey(db, undefined);
  expect(second.tenantId).toBe(first.tenantId);
  expect(second.key).not.toBe(first.key);
  expect(await db.tenant.findUniqueOrThrow({ where: { id: first.tenantId }, select: { callWindowStartMinute: true, callWindowEndMinute: true } })).toEqual({
    callWindowStartMinute: 0,
    callWindowEndMinute: 1440,
  });
});

test("a development tenant made with the default window (09:00–20:00) is widened to the whole day", async ({ database }) => {
  const { db } = database;
  const older = await db.tenant.create({ data: { name: "development" } });
  expect(older).toMatchObject({ callWindowStartMinute: 540, callWindowEndMinute: 1200 });
  const { tenantId } = await ensureDevApiKey(db, undefined);
  expect(tenantId).toBe(older.id);
  expect(await db.tenant.findUniqueOrThrow({ where: { id: older.id }, select: { callWindowStartMinute: true, callWindowEndMinute: true } })).toEqual({
    callWindowStartMinute: 0,
    callWindowEndMinute: 1440,
  });
});
