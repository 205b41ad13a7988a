import { createApiKey, hashApiKey, ADMIN_SCOPE } from "@callflow/ingest";
import type { Db } from "@callflow/db";

const DEV_TENANT = "development";
/**
 * Its dials go to the simulated carrier, where quiet hours protect nobody: a window of the whole day,
 * so the demo and the tests dial at any hour (a tenant's default closes at 20:00 in the callee's zone).
 */
const WHOLE_DAY = { callWindowStartMinute: 0, callWindowEndMinute: 24 * 60 };

/** Made on first use; one made before its window was the whole day (09:00–20:00) is widened. */
async function developmentTenant(db: Db) {
  const found = await db.tenant.findFirst({ where: { name: DEV_TENANT }, orderBy: { createdAt: "asc" } });
  if (!found) return db.tenant.create({ data: { name: DEV_TENANT, ...WHOLE_DAY } });
  const wholeDay = found.callWindowStartMinute === WHOLE_DAY.callWindowStartMinute && found.callWindowEndMinute === WHOLE_DAY.callWindowEndMinute;
  return wholeDay ? found : db.tenant.update({ where: { id: found.id }, data: WHOLE_DAY });
}

/**
 * The key `callflow up` prints. With CALLFLOW_DEV_API_KEY set it is that key (scripts can rely on
 * it across restarts); otherwise a fresh one. Either way it belongs to the `development` tenant and
 * has the admin scope, so the admin endpoints work locally.
 */
export async function ensureDevApiKey(db: Db, fixedKey: string | undefined): Promise<{ tenantId: string; key: string }> {
  const tenant = await developmentTenant(db);
  if (!fixedKey) {
    const { key } = await createApiKey(db, { tenantId: tenant.id, name: "callflow up", scopes: [ADMIN_SCOPE] });
    return { tenantId: tenant.id, key };
  }
  const keyHash = hashApiKey(fixedKey);
  const existing = await db.apiKey.findUnique({ where: { keyHash } });
  if (existing && existing.tenantId !== tenant.id) throw new Error("CALLFLOW_DEV_API_KEY belongs to another tenant than the development one");
  if (!existing) {
    await db.apiKey.create({ data: { tenantId: tenant.id, name: "CALLFLOW_DEV_API_KEY", prefix: fixedKey.slice(0, 8), keyHash, scopes: [ADMIN_SCOPE] } });
  } else if (existing.revokedAt) {
    throw new Error("CALLFLOW_DEV_API_KEY has been revoked");
  }
  return { tenantId: tenant.id, key: fixedKey };
}
