/** Where the tests find their infrastructure; local defaults match ENVIRONMENT.md's services. */
export const testInfraUrls = () => ({
  /** An admin connection: the fixture creates one database per test from here. */
  postgres: process.env.CALLFLOW_TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
  nats: process.env.CALLFLOW_TEST_NATS_URL ?? "nats://127.0.0.1:4222",
  /** Unset: each test worker starts an embedded s3rver. */
  s3: process.env.CALLFLOW_TEST_S3_ENDPOINT,
});

export const START_POSTGRES =
  "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start (or `make services`), or set CALLFLOW_TEST_DATABASE_URL";
export const START_NATS =
  "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server (or `make services`), or set CALLFLOW_TEST_NATS_URL";

/** A test needs a service that is not there: fail loudly with what to start, never skip. */
export class InfrastructureUnavailableError extends Error {
  override readonly name = "InfrastructureUnavailableError";
  constructor(service: string, url: string, cause: unknown, howToStart: string) {
    const reason = cause instanceof Error ? cause.message || cause.name : String(cause);
    super(`${service} is not reachable at ${redactUrl(url)} (${reason}). Start it: ${howToStart}`, { cause });
  }
}

export const redactUrl = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]+@/, "//$1:***@");

export const uniqueSuffix = (): string =>
  `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
