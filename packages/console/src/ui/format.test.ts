import { describe, expect, it } from "vitest";
import { formatBytes, formatOffset, formatSpan } from "./format.ts";

describe("console formats", () => {
  it("writes spans in the largest unit that keeps them readable", () => {
    expect(formatSpan(850)).toBe("850 ms");
    expect(formatSpan(12_400)).toBe("12 s");
    expect(formatSpan(4_250)).toBe("4.3 s");
    expect(formatSpan(200_000)).toBe("3 min 20 s");
    expect(formatSpan(7_500_000)).toBe("2 h 05 min");
    expect(formatSpan(3 * 86_400_000 + 4 * 3_600_000)).toBe("3 d 4 h");
    expect(formatSpan(null)).toBe("—");
  });

  it("writes positions in a recording as a player does", () => {
    expect(formatOffset(7.9)).toBe("0:07");
    expect(formatOffset(754)).toBe("12:34");
    expect(formatOffset(3723)).toBe("1:02:03");
  });

  it("writes sizes in binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(300 * 1024 * 1024)).toBe("300 MiB");
  });
});
