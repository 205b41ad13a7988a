import { describe, expect, it } from "vitest";
import { sniffAudioFormat } from "./sniff.ts";

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part, "latin1") : Buffer.from(part))));

describe("sniffAudioFormat", () => {
  it("recognises each supported container by its leading bytes", () => {
    expect(sniffAudioFormat(bytes("RIFF", [0x24, 0, 0, 0], "WAVEfmt "))).toBe("wav");
    expect(sniffAudioFormat(bytes("RF64", [0xff, 0xff, 0xff, 0xff], "WAVEds64"))).toBe("wav");
    expect(sniffAudioFormat(bytes("ID3", [4, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe("mp3");
    expect(sniffAudioFormat(bytes([0xff, 0xfb, 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe("mp3");
    expect(sniffAudioFormat(bytes([0xff, 0xf1, 0x50, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe("aac");
    expect(sniffAudioFormat(bytes([0, 0, 0, 0x20], "ftypM4A "))).toBe("m4a");
    expect(sniffAudioFormat(bytes("OggS", [0, 2, 0, 0, 0, 0, 0, 0]))).toBe("ogg");
    expect(sniffAudioFormat(bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 1, 0, 0, 0]))).toBe("webm");
    expect(sniffAudioFormat(bytes("fLaC", [0, 0, 0, 0x22, 0, 0, 0, 0]))).toBe("flac");
  });

  it("rejects text, images and RIFF containers that are not WAVE", () => {
    expect(sniffAudioFormat(bytes("hello, this is not audio"))).toBeUndefined();
    expect(sniffAudioFormat(bytes([0x89], "PNG\r\n", [0x1a, 0x0a, 0, 0, 0, 0]))).toBeUndefined();
    expect(sniffAudioFormat(bytes("RIFF", [0, 0, 0, 0], "AVI LIST"))).toBeUndefined();
    expect(sniffAudioFormat(bytes([0xff, 0xe9, 0, 0]))).toBeUndefined();
    expect(sniffAudioFormat(new Uint8Array())).toBeUndefined();
  });
});
