import { decodeEvent, type EventKey, type EventOf, type Topology } from "@callflow/contracts";
import type { Db, DialStatus } from "@callflow/db";
import type { Clock } from "@callflow/messaging";

/** Test support for the status modules: dials as the placer leaves them, a clock a test moves. */

export const MINUTE = 60_000;

export const quietLogger = { info: () => {}, warn: () => {} };

export const movableClock = (start: Date): Clock & { set(at: Date): void } => {
  let now = start;
  return { now: () => now, set: (at) => void (now = at) };
};

export const later = (at: Date, ms: number): Date => new Date(at.getTime() + ms);

export interface PlacedDial {
  status?: DialStatus;
  attempt?: number;
  providerCallId?: string | null;
  toNumber?: string;
  maxAttempts?: number;
  /** When the placer last touched it (heartbeat_at, started_at, created_at). */
  at?: Date;
}

export const seedTenant = (db: Db) => db.tenant.create({ data: { name: "dial status test" }, select: { id: true } }).then((t) => t.id);

export const seedDial = (db: Db, tenantId: string, dial: PlacedDial = {}) => {
  const at = dial.at ?? new Date();
  const toNumber = dial.toNumber ?? `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, "0")}`;
  return db.dial.create({
    data: {
      tenantId,
      toNumber,
      dedupKey: `${toNumber}|`,
      status: dial.status ?? "placed",
      attempt: dial.attempt ?? 1,
      maxAttempts: dial.maxAttempts ?? 1,
      providerCallId: dial.providerCallId === undefined ? `CA${crypto.randomUUID().replaceAll("-", "")}` : dial.providerCallId,
      startedAt: at,
      heartbeatAt: at,
      createdAt: at,
    },
  });
};

export const timeline = async (db: Db, dialId: string) =>
  (await db.dialEvent.findMany({ where: { dialId }, orderBy: { seq: "asc" } })).map((e) => ({ status: e.status, attempt: e.attempt, errorCode: e.errorCode }));

export const outboxEvents = async <K extends EventKey>(db: Db, topology: Topology, key: K): Promise<EventOf<K>[]> =>
  (await db.outboxEvent.findMany({ where: { subject: topology.subject(key) }, orderBy: { createdAt: "asc" } })).map((row) => decodeEvent(key, row.payload));
