const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` has the shape of the UUIDs every Callflow id is (calls, tenants, chunks, dead letters), in either case. */
export const isUuid = (value: string): boolean => UUID.test(value);
