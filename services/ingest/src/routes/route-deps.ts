import { isUuid } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import type { ObjectStore } from "@callflow/storage";
import type { AudioProbe } from "../audio/probe.ts";
import type { Commit } from "../calls/commit.ts";
import { notFound } from "../http/api-error.ts";

/** What the call routes need; main.ts builds it, tests build it with real clients. */
export interface CallRouteDeps {
  db: Db;
  store: ObjectStore;
  commit: Commit;
  probe: AudioProbe;
  maxUploadBytes: number;
}

/** A path id that is not a UUID names nothing: 404, like any other unknown `what`. */
const pathIdOf =
  (what: string) =>
  (params: { id: string }): string => {
    if (!isUuid(params.id)) throw notFound(what, params.id);
    return params.id.toLowerCase();
  };

export const callIdOf = pathIdOf("call");
export const dialIdOf = pathIdOf("dial");
export const leadIdOf = pathIdOf("lead");
