import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError } from "./config-error.ts";
import { field } from "./fields.ts";
import { parseConfig } from "./parse-config.ts";

const schema = z.object({
  CALLFLOW_NATS_URL: field.url({ protocols: ["nats", "tls"] }).default("nats://127.0.0.1:4222"),
  CALLFLOW_DATABASE_URL: field.url({ protocols: ["postgres", "postgresql"] }).default("postgres://127.0.0.1:5432/callflow"),
  CALLFLOW_HTTP_PORT: field.port().default(8080),
  CALLFLOW_CONCURRENCY: field.positiveInt().default(4),
  CALLFLOW_LOG_LEVEL: field.oneOf(["debug", "info", "warn", "error"]).default("info"),
  CALLFLOW_EMBEDDED: field.boolean().default(true),
  CALLFLOW_OPENAI_API_KEY: field.optionalSecret(),
});

const catchConfigError = (run: () => unknown): ConfigError => {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
};

describe("parseConfig", () => {
  it("runs locally on defaults alone", () => {
    const config = parseConfig(schema, {});
    expect(config).toEqual({
      CALLFLOW_NATS_URL: "nats://127.0.0.1:4222",
      CALLFLOW_DATABASE_URL: "postgres://127.0.0.1:5432/callflow",
      CALLFLOW_HTTP_PORT: 8080,
      CALLFLOW_CONCURRENCY: 4,
      CALLFLOW_LOG_LEVEL: "info",
      CALLFLOW_EMBEDDED: true,
      CALLFLOW_OPENAI_API_KEY: undefined,
    });
  });

  it("converts strings to the declared types and ignores unrelated variables", () => {
    const config = parseConfig(schema, {
      CALLFLOW_HTTP_PORT: "9090",
      CALLFLOW_EMBEDDED: "0",
      CALLFLOW_LOG_LEVEL: "debug",
      CALLFLOW_OPENAI_API_KEY: "test-key-not-real",
      PATH: "/usr/bin",
    });
    expect(config.CALLFLOW_HTTP_PORT).toBe(9090);
    expect(config.CALLFLOW_EMBEDDED).toBe(false);
    expect(config.CALLFLOW_LOG_LEVEL).toBe("debug");
    expect(config.CALLFLOW_OPENAI_API_KEY).toBe("test-key-not-real");
    expect(config).not.toHaveProperty("PATH");
  });

  it("returns a frozen object", () => {
    const config = parseConfig(schema, {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { CALLFLOW_HTTP_PORT: number }).CALLFLOW_HTTP_PORT = 1;
    }).toThrow(TypeError);
  });

  it("treats an empty variable as unset so the default applies", () => {
    expect(parseConfig(schema, { CALLFLOW_HTTP_PORT: "" }).CALLFLOW_HTTP_PORT).toBe(8080);
  });

  it("names the variable and the bad value", () => {
    const error = catchConfigError(() => parseConfig(schema, { CALLFLOW_NATS_URL: "nats//x" }));
    expect(error.problems).toEqual([
      { variable: "CALLFLOW_NATS_URL", message: 'CALLFLOW_NATS_URL is not a URL: "nats//x"' },
    ]);
    expect(error.message).toContain('CALLFLOW_NATS_URL is not a URL: "nats//x"');
  });

  it("lists every bad variable at once", () => {
    const error = catchConfigError(() =>
      parseConfig(schema, {
        CALLFLOW_NATS_URL: "http://nats:4222",
        CALLFLOW_HTTP_PORT: "70000",
        CALLFLOW_CONCURRENCY: "0",
        CALLFLOW_LOG_LEVEL: "verbose",
        CALLFLOW_EMBEDDED: "yes",
      }),
    );
    expect(error.problems.map((p) => p.message)).toEqual([
      'CALLFLOW_NATS_URL is not a nats:// or tls:// URL: "http://nats:4222"',
      'CALLFLOW_HTTP_PORT is not a port (0-65535): "70000"',
      'CALLFLOW_CONCURRENCY is not a positive integer: "0"',
      'CALLFLOW_LOG_LEVEL is not one of debug, info, warn, error: "verbose"',
      'CALLFLOW_EMBEDDED is not a boolean (true, false, 1 or 0): "yes"',
    ]);
    expect(error.message.split("\n")[0]).toBe("Invalid configuration: 5 environment variables are wrong");
  });

  it("says a variable without a default is required", () => {
    const error = catchConfigError(() => parseConfig(z.object({ CALLFLOW_API_KEY: field.secret() }), {}));
    expect(error.problems.map((p) => p.message)).toEqual(["CALLFLOW_API_KEY is required"]);
  });

  it("never prints a secret's value", () => {
    const error = catchConfigError(() => parseConfig(z.object({ CALLFLOW_API_KEY: field.secret() }), { CALLFLOW_API_KEY: "   " }));
    expect(error.problems.map((p) => p.message)).toEqual(["CALLFLOW_API_KEY is empty: [redacted]"]);
  });

  it("masks the password of a URL it reports", () => {
    const error = catchConfigError(() =>
      parseConfig(schema, { CALLFLOW_DATABASE_URL: "mysql://callflow:example-password@db:3306/callflow" }),
    );
    expect(error.message).toContain('CALLFLOW_DATABASE_URL is not a postgres:// or postgresql:// URL: "mysql://callflow:***@db:3306/callflow"');
    expect(error.message).not.toContain("example-password");
  });

  it("reports a plain zod field with zod's own reason", () => {
    const error = catchConfigError(() =>
      parseConfig(z.object({ CALLFLOW_REGION: z.string().length(2) }), { CALLFLOW_REGION: "europe" }),
    );
    expect(error.problems[0]?.message).toMatch(/^CALLFLOW_REGION is invalid \(.+\): "europe"$/);
  });
});
