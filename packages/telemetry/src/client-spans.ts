import { trace, type Tracer, type TracerProvider } from "@opentelemetry/api";
import { AwsInstrumentation } from "@opentelemetry/instrumentation-aws-sdk";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";

/**
 * Postgres and S3 client spans through the OpenTelemetry instrumentations, applied to the very
 * module objects the clients use rather than through require hooks. Hooks patch a module only if it
 * is loaded after they are installed, and never one bundled into a service's dist/main.mjs (esbuild
 * inlines `pg` and the AWS SDK): here `packages/db` hands over its `pg` and `packages/storage` its
 * S3 client class, so every service gets the spans however it was loaded.
 *
 * Queries and S3 calls are traced only under a span (a request, a consumed message): the outbox
 * sweeper's and the lag poller's background queries start no traces of their own.
 */
let pg: PgInstrumentation | undefined;
let aws: AwsInstrumentation | undefined;

const pgInstrumentation = (): PgInstrumentation =>
  (pg ??= new PgInstrumentation({ enabled: false, requireParentSpan: true, enhancedDatabaseReporting: false }));
const awsInstrumentation = (): AwsInstrumentation => (aws ??= new AwsInstrumentation({ enabled: false, suppressInternalInstrumentation: true }));

const patched = new WeakSet<object>();

/** What of an instrumentation is used here; structural, as the AWS one is built on another copy of @opentelemetry/instrumentation. */
interface ModulePatcher {
  readonly instrumentationName: string;
  getModuleDefinitions(): readonly { name: string; patch?: ((exports: never, version?: string) => unknown) | undefined }[];
}

/** Applies `instrumentation`'s patch for module `name` to `exports`, once per object. */
const patchModule = (instrumentation: ModulePatcher, name: string, exports: object, version: string): void => {
  if (patched.has(exports)) return;
  const definition = instrumentation.getModuleDefinitions().find((candidate) => candidate.name === name);
  if (!definition?.patch) throw new Error(`${instrumentation.instrumentationName} has no patch for ${name}`);
  definition.patch(exports as never, version);
  patched.add(exports);
};

/** Traces every query of the `pg` module given (its `Client.query`, which its `Pool` and Prisma's adapter use). */
export const tracePgModule = (pgModule: { Client: unknown }): void => patchModule(pgInstrumentation(), "pg", pgModule, "8");

/**
 * Traces every command sent by clients of this AWS SDK v3 client class (e.g. `S3Client`): the
 * instrumentation wraps the Smithy base class's `send`, which every SDK client inherits.
 */
export const traceAwsSdkClient = (clientClass: abstract new (...args: never[]) => unknown): void => {
  const smithyClient = Object.getPrototypeOf(clientClass) as { prototype?: { send?: unknown } };
  if (typeof smithyClient?.prototype?.send !== "function") throw new Error("not an AWS SDK v3 client class");
  patchModule(awsInstrumentation(), "@smithy/smithy-client", { Client: smithyClient }, "3");
};

/** A provider whose tracers only propagate (see PropagatingTracer): nothing records, ids still travel. */
const propagatingProvider = (tracer: Tracer): TracerProvider => ({ getTracer: () => tracer });

/**
 * Points the client instrumentations at the running SDK (a restarted SDK in tests, or only
 * propagation when nothing records). Called by startTelemetry each time it boots.
 */
export const connectClientSpans = (propagateOnly: Tracer | undefined): void => {
  const provider = propagateOnly ? propagatingProvider(propagateOnly) : trace.getTracerProvider();
  for (const instrumentation of [pgInstrumentation(), awsInstrumentation()]) instrumentation.setTracerProvider(provider);
};
