import { describe, expect, it } from "vitest";
import { isUuid } from "./ids.ts";

describe("isUuid", () => {
  it("accepts a UUID in lower or upper case", () => {
    expect(isUuid("0b6c3f0e-8a1d-4f3e-9c2b-5d7e8f9a0b1c")).toBe(true);
    expect(isUuid("0B6C3F0E-8A1D-4F3E-9C2B-5D7E8F9A0B1C")).toBe(true);
  });

  it("rejects anything else: no dashes, a wrong group length, other characters, text around it", () => {
    expect(isUuid("0b6c3f0e8a1d4f3e9c2b5d7e8f9a0b1c")).toBe(false);
    expect(isUuid("0b6c3f0e-8a1d-4f3e-9c2b-5d7e8f9a0b1")).toBe(false);
    expect(isUuid("zb6c3f0e-8a1d-4f3e-9c2b-5d7e8f9a0b1c")).toBe(false);
    expect(isUuid(" 0b6c3f0e-8a1d-4f3e-9c2b-5d7e8f9a0b1c")).toBe(false);
    expect(isUuid("not-a-uuid")).toBe(false);
    expect(isUuid("")).toBe(false);
  });
});
