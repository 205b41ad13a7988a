import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "./parse-config.ts";
import { serviceConnection, serviceFields } from "./service-fields.ts";

const schema = z.object(serviceFields({ databasePoolSize: 7 }));

describe("the fields every service reads", () => {
  it("default to the local Postgres and NATS in the callflow namespace", () => {
    expect(serviceConnection(parseConfig(schema, {}))).toEqual({
      databaseUrl: "postgresql://postgres@127.0.0.1:5432/callflow",
      databasePoolSize: 7,
      databaseWaitMs: 180_000,
      natsUrl: "nats://127.0.0.1:4222",
      namespace: "callflow",
      logLevel: "info",
    });
  });

  it("read how long to wait for an unreachable Postgres at start", () => {
    expect(serviceConnection(parseConfig(schema, { CALLFLOW_DATABASE_WAIT_MS: "2000" })).databaseWaitMs).toBe(2_000);
    expect(() => parseConfig(schema, { CALLFLOW_DATABASE_WAIT_MS: "soon" })).toThrow(/CALLFLOW_DATABASE_WAIT_MS is not a positive whole number of milliseconds/);
  });

  it("name the variable that is wrong", () => {
    expect(() => parseConfig(schema, { CALLFLOW_NATS_URL: "nats//x", CALLFLOW_NAMESPACE: "Bad-Name" })).toThrow(/CALLFLOW_NATS_URL[\s\S]*CALLFLOW_NAMESPACE|CALLFLOW_NAMESPACE[\s\S]*CALLFLOW_NATS_URL/);
  });
});
