import { describe, expect, it } from "vitest";
import { ACTIVE_DIAL_STATUSES, FINISHED_DIAL_STATUSES } from "./dial-states.ts";
import { DialStatus } from "./generated/prisma/enums.ts";

describe("dial states", () => {
  it("are each either active or finished, never both and never neither", () => {
    expect([...ACTIVE_DIAL_STATUSES, ...FINISHED_DIAL_STATUSES].sort()).toEqual(Object.values(DialStatus).sort());
  });
});
