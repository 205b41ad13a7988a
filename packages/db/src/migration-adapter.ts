import { randomUUID } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

const PG_CHAR_OID = 18;
const PG_NAME_OID = 19;
const PG_TEXT_OID = 25;
const POOL = { max: 2, allowExitOnIdle: true, idleTimeoutMillis: 50 } as const;

// prisma/orm#27403: the WebAssembly schema engine cannot read columns of type `name` (oid 19) or
// `"char"` (oid 18), which its catalog queries return. Reporting them as text is lossless.
const catalogTypesAsText = (pool: pg.Pool): pg.Pool => {
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  pool.query = ((...args: unknown[]) => {
    const result = query(...args);
    if (!(result instanceof Promise)) return result;
    return result.then((res: { fields?: { dataTypeID: number }[] }) => {
      for (const field of res?.fields ?? []) if (field.dataTypeID === PG_NAME_OID || field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
      return res;
    });
  }) as never;
  return pool;
};

const poolFor = (connectionString: string): pg.Pool => catalogTypesAsText(new pg.Pool({ connectionString, ...POOL }));

class MigrationPg extends PrismaPg {
  constructor(private readonly connectionString: string) {
    super(poolFor(connectionString));
  }

  /**
   * `migrate diff --from-migrations` replays the migrations into a shadow database. The adapter's own
   * shadow pool keeps the connection string, whose database wins over the shadow's name, so it would
   * replay them into DATABASE_URL's database; this one connects to the shadow it created.
   */
  override async connectToShadowDb() {
    const admin = await this.connect();
    const name = `prisma_migrate_shadow_db_${randomUUID()}`;
    await admin.executeScript(`CREATE DATABASE "${name}"`);
    const url = new URL(this.connectionString);
    url.pathname = `/${name}`;
    const shadow = await new PrismaPg(poolFor(url.href), { disposeExternalPool: true }).connect();
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose();
      await admin.executeScript(`DROP DATABASE IF EXISTS "${name}"`);
      await admin.dispose();
    };
    return shadow;
  }
}

export function createMigrationAdapter(connectionString: string): PrismaPg {
  return new MigrationPg(connectionString);
}
