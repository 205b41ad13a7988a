import { describe, expect, test } from "./support/ingest-fixture.ts";

describe("GET /v1/me", () => {
  test("says whose key it is, with its scopes and whether it is an admin key", async ({ ingest }) => {
    const tenant = await ingest.db.tenant.findUniqueOrThrow({ where: { id: ingest.tenant.tenantId } });
    const plain = await ingest.api("/v1/me");
    expect(plain.status).toBe(200);
    expect(await plain.json()).toEqual({
      tenant: { id: tenant.id, name: tenant.name },
      key: { id: ingest.tenant.keyId, name: "tenant-a test key", prefix: ingest.tenant.key.slice(0, 9), scopes: [] },
      admin: false,
    });

    const operator = await ingest.createTenant("operators", ["admin"]);
    expect(await (await ingest.api("/v1/me", { key: operator.key })).json()).toMatchObject({ tenant: { id: operator.tenantId, name: "operators" }, key: { scopes: ["admin"] }, admin: true });
  });

  test("answers 401 to an unknown key and to none", async ({ ingest }) => {
    expect((await ingest.api("/v1/me", { key: "cf_unknown" })).status).toBe(401);
    expect(await (await ingest.api("/v1/me", { key: null })).json()).toMatchObject({ error: { code: "unauthenticated" } });
  });
});
