import * as tus from "tus-js-client";
import { makeAudio } from "./support/audio.ts";
import { describe, expect, test, type IngestUnderTest } from "./support/ingest-fixture.ts";

const json = async <T>(response: Response): Promise<T> => {
  expect(response.status, await response.clone().text()).toBeLessThan(300);
  return (await response.json()) as T;
};

const setTenantRedaction = async (ingest: IngestUnderTest, redactPii: boolean) =>
  json<{ redactPii: boolean; leadMode: string }>(await ingest.api("/v1/settings", { method: "PATCH", body: JSON.stringify({ redactPii }), headers: { "content-type": "application/json" } }));

const callRedacts = async (ingest: IngestUnderTest, id: string) => (await json<{ redactPii: boolean }>(await ingest.api(`/v1/calls/${id}`))).redactPii;

const upload = async (ingest: IngestUnderTest, query = "") =>
  json<{ id: string }>(await ingest.api(`/v1/calls${query}`, { method: "POST", body: new Uint8Array(await makeAudio("wav", 1)), headers: { "content-type": "audio/wav" } }));

const tusUpload = (ingest: IngestUnderTest, file: Buffer, metadata: Record<string, string>) =>
  new Promise<string>((resolve, reject) => {
    const upload = new tus.Upload(file, {
      endpoint: `${ingest.url}/v1/uploads`,
      retryDelays: [],
      storeFingerprintForResuming: false,
      headers: { authorization: `Bearer ${ingest.tenant.key}` },
      metadata: { filename: "call.wav", ...metadata },
      onSuccess: () => resolve(upload.url!.split("/").at(-1)!),
      onError: reject,
    });
    upload.start();
  });

describe("PII redaction: the tenant's setting and the per-call override", () => {
  test("the tenant's settings (redaction off, leads from dials by default), changed with PATCH /v1/settings, every change audited", async ({ ingest }) => {
    expect(await json(await ingest.api("/v1/settings"))).toEqual({ redactPii: false, leadMode: "dials" });
    expect(await setTenantRedaction(ingest, true)).toEqual({ redactPii: true, leadMode: "dials" });
    expect(await json(await ingest.api("/v1/settings"))).toEqual({ redactPii: true, leadMode: "dials" });
    // Another tenant's setting is its own.
    expect(await json(await ingest.api("/v1/settings", { key: ingest.otherTenant.key }))).toEqual({ redactPii: false, leadMode: "dials" });
    const leads = await ingest.api("/v1/settings", { method: "PATCH", body: JSON.stringify({ leadMode: "all" }), headers: { "content-type": "application/json" } });
    expect(await json(leads)).toEqual({ redactPii: true, leadMode: "all" });
    expect(await ingest.db.auditEntry.findMany({ where: { action: "settings.update" }, orderBy: { at: "asc" } })).toMatchObject([
      { entityType: "tenant", entityId: ingest.tenant.tenantId, actor: `api-key:${ingest.tenant.keyId}`, before: { redactPii: false }, after: { redactPii: true } },
      { before: { leadMode: "dials" }, after: { leadMode: "all" } },
    ]);
    const refused = await ingest.api("/v1/settings", { method: "PATCH", body: JSON.stringify({ redactPii: "yes" }), headers: { "content-type": "application/json" } });
    expect(refused.status).toBe(400);
    expect((await ingest.api("/v1/settings", { method: "PATCH", body: JSON.stringify({ leadMode: "some" }), headers: { "content-type": "application/json" } })).status).toBe(400);
  });

  test("POST /v1/calls: the call takes the tenant's setting, and ?redactPii= wins over it either way", async ({ ingest }) => {
    expect(await callRedacts(ingest, (await upload(ingest)).id)).toBe(false);
    expect(await callRedacts(ingest, (await upload(ingest, "?redactPii=true")).id)).toBe(true);

    await setTenantRedaction(ingest, true);
    const inherited = (await upload(ingest)).id;
    expect(await callRedacts(ingest, inherited)).toBe(true);
    expect(await callRedacts(ingest, (await upload(ingest, "?redactPii=false")).id)).toBe(false);

    // Fixed at upload: turning the tenant's setting off later does not change a call already made.
    await setTenantRedaction(ingest, false);
    expect(await callRedacts(ingest, inherited)).toBe(true);
    expect((await ingest.api("/v1/calls?redactPii=maybe", { method: "POST", body: new Uint8Array(await makeAudio("wav", 1)) })).status).toBe(400);
  });

  test("a tus upload's redactPii metadata wins over the tenant's setting; another value is refused at creation", async ({ ingest }) => {
    await setTenantRedaction(ingest, true);
    const file = await makeAudio("wav", 1);
    expect(await callRedacts(ingest, await tusUpload(ingest, file, {}))).toBe(true);
    expect(await callRedacts(ingest, await tusUpload(ingest, file, { redactPii: "false" }))).toBe(false);
    await expect(tusUpload(ingest, file, { redactPii: "sometimes" })).rejects.toThrow(/400/);
  });

  test("a recorder call's redactPii wins over the tenant's setting", async ({ ingest }) => {
    const open = async (body: unknown) =>
      json<{ id: string }>(await ingest.api("/v1/calls/recorder", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } }));
    expect(await callRedacts(ingest, (await open({})).id)).toBe(false);
    expect(await callRedacts(ingest, (await open({ redactPii: true })).id)).toBe(true);
    await setTenantRedaction(ingest, true);
    expect(await callRedacts(ingest, (await open({})).id)).toBe(true);
    expect(await callRedacts(ingest, (await open({ redactPii: false })).id)).toBe(false);
  });
});
