import { describe, expect, it } from "vitest";
import { z } from "zod";
import { field, isSecretField } from "./fields.ts";

const accepts = (schema: z.ZodType, raw: string) => schema.parse(raw);
const messageFor = (schema: z.ZodType, raw: string) => schema.safeParse(raw).error?.issues[0]?.message;

describe("field.url", () => {
  it("accepts nats, postgres and http(s) URLs by default", () => {
    for (const raw of ["nats://127.0.0.1:4222", "postgres://u@db:5432/x", "http://s3:9000", "https://api.example.test/v1"]) {
      expect(accepts(field.url(), raw)).toBe(raw);
    }
  });

  it("rejects text that is not a URL", () => {
    expect(messageFor(field.url(), "nats//x")).toBe("is not a URL");
    expect(messageFor(field.url(), "localhost:4222")).toBe("is not a nats://, tls://, postgres://, postgresql://, http:// or https:// URL");
  });

  it("rejects a scheme the field does not allow", () => {
    expect(messageFor(field.url({ protocols: ["nats"] }), "http://nats:4222")).toBe("is not a nats:// URL");
  });
});

describe("numeric fields", () => {
  it("parse whole numbers from strings", () => {
    expect(accepts(field.port(), "0")).toBe(0);
    expect(accepts(field.port(), " 65535 ")).toBe(65535);
    expect(accepts(field.positiveInt(), "12")).toBe(12);
    expect(accepts(field.nonNegativeInt(), "0")).toBe(0);
    expect(accepts(field.nonNegativeInt(), "256")).toBe(256);
    expect(accepts(field.milliseconds(), "1500")).toBe(1500);
    expect(accepts(field.seconds(), "0.5")).toBe(0.5);
    expect(accepts(field.seconds(), "600")).toBe(600);
  });

  it("reject what would silently become something else", () => {
    expect(messageFor(field.port(), "8080abc")).toBe("is not a port (0-65535)");
    expect(messageFor(field.port(), "-1")).toBe("is not a port (0-65535)");
    expect(messageFor(field.positiveInt(), "1e3")).toBe("is not a positive integer");
    expect(messageFor(field.positiveInt(), "2.5")).toBe("is not a positive integer");
    expect(messageFor(field.nonNegativeInt(), "-1")).toBe("is not a whole number (0 or more)");
    expect(messageFor(field.milliseconds(), "0")).toBe("is not a positive whole number of milliseconds");
    expect(messageFor(field.seconds(), "10s")).toBe("is not a positive number of seconds");
    expect(messageFor(field.seconds(), "0")).toBe("is not a positive number of seconds");
  });
});

describe("field.boolean", () => {
  it("reads true/false/1/0 in any case", () => {
    expect(["true", "TRUE", "1"].map((raw) => accepts(field.boolean(), raw))).toEqual([true, true, true]);
    expect(["false", "False", "0"].map((raw) => accepts(field.boolean(), raw))).toEqual([false, false, false]);
  });

  it("rejects anything else instead of guessing", () => {
    expect(messageFor(field.boolean(), "yes")).toBe("is not a boolean (true, false, 1 or 0)");
  });
});

describe("field.oneOf", () => {
  it("accepts only the listed values", () => {
    const level = field.oneOf(["debug", "info"]);
    expect(accepts(level, "debug")).toBe("debug");
    expect(messageFor(level, "trace")).toBe("is not one of debug, info");
  });
});

describe("secret fields", () => {
  it("are recognised through default and optional wrappers", () => {
    expect(isSecretField(field.secret())).toBe(true);
    expect(isSecretField(field.optionalSecret())).toBe(true);
    expect(isSecretField(field.secret().pipe(z.string().min(8)))).toBe(true);
    expect(isSecretField(field.url().default("http://x"))).toBe(false);
  });

  it("leave an unset optional secret undefined", () => {
    expect(field.optionalSecret().parse(undefined)).toBeUndefined();
  });
});
