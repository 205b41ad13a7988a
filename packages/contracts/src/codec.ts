import { create, fromBinary, toBinary, toJson, type JsonValue, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { events, type EventKey } from "./events.ts";

type Schema<K extends EventKey> = (typeof events)[K]["schema"];
export type EventOf<K extends EventKey> = MessageShape<Schema<K>>;
export type EventInit<K extends EventKey> = MessageInitShape<Schema<K>>;

/** Thrown for bytes that are not a valid event of the expected type: the message is dead-lettered. */
export class UndecodableEventError extends Error {
  override readonly name = "UndecodableEventError";
  constructor(readonly event: string, cause: unknown) {
    super(`cannot decode ${event}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export function encodeEvent<K extends EventKey>(key: K, init: EventInit<K>): Uint8Array {
  const schema = events[key].schema as Schema<K>;
  return toBinary(schema, create(schema, init) as never);
}

export function decodeEvent<K extends EventKey>(key: K, bytes: Uint8Array): EventOf<K> {
  try {
    return fromBinary(events[key].schema as Schema<K>, bytes) as EventOf<K>;
  } catch (error) {
    throw new UndecodableEventError(key, error);
  }
}

/** An event's bytes as proto3 JSON with every field, defaults too (64-bit integers as strings), for people to read: dead letters in the admin API. */
export function eventAsJson(key: EventKey, bytes: Uint8Array): JsonValue {
  const schema = events[key].schema as Schema<EventKey>;
  try {
    return toJson(schema, fromBinary(schema, bytes) as never, { alwaysEmitImplicit: true });
  } catch (error) {
    throw new UndecodableEventError(key, error);
  }
}
