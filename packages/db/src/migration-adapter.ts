import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

const PG_NAME_OID = 19;
const PG_TEXT_OID = 25;

// prisma/orm#27403: the WebAssembly schema engine cannot read columns of type `name` (oid 19), which
// the migration engine's catalog queries return. Reporting them as text is lossless.
class NameAsTextPool extends pg.Pool {
  override query(...args: unknown[]): never {
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) {
      return result.then((res: { fields?: { dataTypeID: number }[] }) => {
        for (const field of res?.fields ?? []) if (field.dataTypeID === PG_NAME_OID) field.dataTypeID = PG_TEXT_OID;
        return res;
      }) as never;
    }
    return result as never;
  }
}

export function createMigrationAdapter(connectionString: string): PrismaPg {
  return new PrismaPg(new NameAsTextPool({ connectionString, max: 2, allowExitOnIdle: true, idleTimeoutMillis: 50 }));
}
