import { createHash, randomBytes } from "node:crypto";
import type { Db } from "@callflow/db";

/** Who is calling: resolved from the Bearer key on every request. */
export interface Principal {
  readonly keyId: string;
  readonly tenantId: string;
  readonly scopes: readonly string[];
}

export const ADMIN_SCOPE = "admin";

/** The lookup auth needs; the Postgres implementation is below, tests may wrap it. */
export interface ApiKeyLookup {
  /** The key's principal when it exists and is not revoked, else null. */
  findActive(keyHash: string): Promise<Principal | null>;
}

export const hashApiKey = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex");

const KEY_PREFIX = "cf_";

/** A new random key; only its hash and a short prefix are stored. */
export const generateApiKey = (): string => `${KEY_PREFIX}${randomBytes(24).toString("base64url")}`;

export const postgresApiKeyLookup = (db: Db): ApiKeyLookup => ({
  async findActive(keyHash) {
    const row = await db.apiKey.findUnique({
      where: { keyHash },
      select: { id: true, tenantId: true, scopes: true, revokedAt: true },
    });
    if (!row || row.revokedAt) return null;
    return { keyId: row.id, tenantId: row.tenantId, scopes: row.scopes };
  },
});

/**
 * Remembers lookups (hits and misses) for `ttlMs`: the status endpoint is polled hard and each
 * request would otherwise cost a query. A revoked key stops working within `ttlMs`.
 */
export const cachedApiKeyLookup = (inner: ApiKeyLookup, ttlMs: number, now: () => number = Date.now): ApiKeyLookup => {
  const entries = new Map<string, { principal: Principal | null; expires: number }>();
  const MAX_ENTRIES = 10_000;
  return {
    async findActive(keyHash) {
      const cached = entries.get(keyHash);
      if (cached && cached.expires > now()) return cached.principal;
      const principal = await inner.findActive(keyHash);
      if (entries.size >= MAX_ENTRIES) entries.clear();
      entries.set(keyHash, { principal, expires: now() + ttlMs });
      return principal;
    },
  };
};

/** Creates a key for a tenant and returns it in clear text: the only time it is ever visible. */
export const createApiKey = async (
  db: Db,
  input: { tenantId: string; name: string; scopes?: string[] },
): Promise<{ id: string; key: string }> => {
  const key = generateApiKey();
  const row = await db.apiKey.create({
    data: {
      tenantId: input.tenantId,
      name: input.name,
      prefix: key.slice(0, KEY_PREFIX.length + 6),
      keyHash: hashApiKey(key),
      scopes: input.scopes ?? [],
    },
    select: { id: true },
  });
  return { id: row.id, key };
};
