import { expect, test } from "vitest";
import { Slots } from "./slots.ts";

test("grants free slots at once, then makes callers wait in order until a slot is released", async () => {
  const slots = new Slots(2);
  expect(slots.acquire()).toBe(true);
  expect(slots.saturated).toBe(false);
  expect(slots.acquire()).toBe(true);
  expect(slots.saturated).toBe(true);

  const granted: string[] = [];
  const first = slots.acquire();
  const second = slots.acquire();
  expect(first).toBeInstanceOf(Promise);
  void (first as Promise<boolean>).then(() => granted.push("first"));
  void (second as Promise<boolean>).then(() => granted.push("second"));

  slots.release();
  await expect(first).resolves.toBe(true);
  expect(granted).toEqual(["first"]);
  slots.release();
  await expect(second).resolves.toBe(true);
  expect(granted).toEqual(["first", "second"]);
  expect(slots.saturated).toBe(true);
});

test("a slot released with nobody waiting is free again", () => {
  const slots = new Slots(1);
  expect(slots.acquire()).toBe(true);
  slots.release();
  expect(slots.saturated).toBe(false);
  expect(slots.acquire()).toBe(true);
});

test("at shutdown every waiter is told no, and the slots held stay held", async () => {
  const slots = new Slots(1);
  expect(slots.acquire()).toBe(true);
  const waiting = [slots.acquire(), slots.acquire()];

  slots.refuseWaiters();

  expect(await Promise.all(waiting)).toEqual([false, false]);
  expect(slots.saturated).toBe(true);
  slots.release();
  expect(slots.saturated).toBe(false);
});

test("acquireFree takes every free slot, or waits in turn for one; 0 at shutdown", async () => {
  const slots = new Slots(3);
  expect(slots.acquire()).toBe(true);
  expect(await slots.acquireFree()).toBe(2);
  expect(slots.saturated).toBe(true);

  const waiting = slots.acquireFree();
  const behind = slots.acquire();
  slots.release(2);
  expect(await waiting).toBe(1);
  await expect(behind).resolves.toBe(true);
  expect(slots.saturated).toBe(true);

  const refused = slots.acquireFree();
  slots.refuseWaiters();
  expect(await refused).toBe(0);
});
