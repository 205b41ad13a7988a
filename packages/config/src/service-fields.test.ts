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
      natsUrl: "nats://127.0.0.1:4222",
      namespace: "callflow",
      logLevel: "info",
    });
  });

  it("name the variable that is wrong", () => {
    expect(() => parseConfig(schema, { CALLFLOW_NATS_URL: "nats//x", CALLFLOW_NAMESPACE: "Bad-Name" })).toThrow(/CALLFLOW_NATS_URL[\s\S]*CALLFLOW_NAMESPACE|CALLFLOW_NAMESPACE[\s\S]*CALLFLOW_NATS_URL/);
  });
});
