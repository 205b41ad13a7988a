import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "./parse-config.ts";
import { workerFields } from "./worker-fields.ts";

const worker = workerFields("MERGE", { opsPort: 9104, concurrency: 2, ackWaitMs: 60_000, maxDeliver: 5 });
const schema = z.object(worker.fields);

describe("the worker settings a service chooses", () => {
  it("are read from CALLFLOW_<SERVICE>_* with the service's defaults", () => {
    expect(worker.settings(parseConfig(schema, {}))).toEqual({ opsPort: 9104, concurrency: 2, ackWaitMs: 60_000, maxDeliver: 5 });
    expect(worker.settings(parseConfig(schema, { CALLFLOW_MERGE_CONCURRENCY: "8", CALLFLOW_MERGE_OPS_PORT: "0" }))).toMatchObject({ concurrency: 8, opsPort: 0 });
  });

  it("declare only the settings chosen", () => {
    expect(Object.keys(worker.fields).sort()).toEqual(["CALLFLOW_MERGE_ACK_WAIT_MS", "CALLFLOW_MERGE_CONCURRENCY", "CALLFLOW_MERGE_MAX_DELIVER", "CALLFLOW_MERGE_OPS_PORT"]);
    expect(Object.keys(workerFields("REAPER", { opsPort: 9106 }).fields)).toEqual(["CALLFLOW_REAPER_OPS_PORT"]);
  });

  it("name the variable that is wrong, with the field's own predicate", () => {
    expect(() => parseConfig(schema, { CALLFLOW_MERGE_ACK_WAIT_MS: "soon" })).toThrow(/CALLFLOW_MERGE_ACK_WAIT_MS is not a positive whole number of milliseconds/);
    expect(() => parseConfig(schema, { CALLFLOW_MERGE_OPS_PORT: "70000" })).toThrow(/CALLFLOW_MERGE_OPS_PORT is not a port/);
  });
});
