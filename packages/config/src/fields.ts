import { z } from "zod";

/**
 * Field schemas for configuration read from environment variables. Each takes the raw string and
 * reports a problem as a short predicate ("is not a URL"); `parseConfig` prefixes the variable name
 * and appends the offending value, so messages read `CALLFLOW_NATS_URL is not a URL: "nats//x"`.
 */

const secretSchemas = new WeakSet<z.ZodType>();

/** Whether a field (or a schema it wraps) was built by `secret()` / `optionalSecret()`. */
export const isSecretField = (schema: z.ZodType): boolean => {
  let current: unknown = schema;
  for (let depth = 0; current !== undefined && depth < 16; depth++) {
    if (secretSchemas.has(current as z.ZodType)) return true;
    const def = (current as z.ZodType)._zod.def as unknown as { innerType?: unknown; in?: unknown };
    current = def.innerType ?? def.in;
  }
  return false;
};

/** Marks an issue as written by these fields (a complete predicate), not by zod itself. */
export const FIELD_ISSUE = "callflowField";

type Ctx = z.RefinementCtx<string>;

const reject = (ctx: Ctx, raw: string, message: string): never => {
  ctx.addIssue({ code: "custom", message, input: raw, params: { [FIELD_ISSUE]: true } });
  return z.NEVER;
};

const joinOr = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;

const DEFAULT_URL_PROTOCOLS = ["nats", "tls", "postgres", "postgresql", "http", "https"] as const;

const url = (options: { protocols?: readonly string[] } = {}) => {
  const protocols = options.protocols ?? DEFAULT_URL_PROTOCOLS;
  const expected = joinOr(protocols.map((p) => `${p}://`));
  return z.string().transform((raw, ctx) => {
    const value = raw.trim();
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      return reject(ctx, raw, "is not a URL");
    }
    // `new URL("localhost:4222")` parses with protocol "localhost:"; the scheme check catches it.
    if (!protocols.includes(parsed.protocol.slice(0, -1)) || !value.includes("://")) {
      return reject(ctx, raw, `is not a ${expected} URL`);
    }
    return value;
  });
};

const wholeNumber = (raw: string): number | undefined => {
  const value = raw.trim();
  return /^\d+$/.test(value) ? Number(value) : undefined;
};

const port = () =>
  z.string().transform((raw, ctx) => {
    const value = wholeNumber(raw);
    return value !== undefined && value <= 65_535 ? value : reject(ctx, raw, "is not a port (0-65535)");
  });

const positiveInt = () =>
  z.string().transform((raw, ctx) => {
    const value = wholeNumber(raw);
    return value !== undefined && value > 0 && Number.isSafeInteger(value)
      ? value
      : reject(ctx, raw, "is not a positive integer");
  });

/** A whole number, zero allowed (a size where 0 turns something off). */
const nonNegativeInt = () =>
  z.string().transform((raw, ctx) => {
    const value = wholeNumber(raw);
    return value !== undefined && Number.isSafeInteger(value) ? value : reject(ctx, raw, "is not a whole number (0 or more)");
  });

/** A positive duration in seconds; fractions allowed ("0.5"). */
const seconds = () =>
  z.string().transform((raw, ctx) => {
    const value = raw.trim();
    const parsed = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
    return parsed > 0 && Number.isFinite(parsed) ? parsed : reject(ctx, raw, "is not a positive number of seconds");
  });

/** A positive whole duration in milliseconds. */
const milliseconds = () =>
  z.string().transform((raw, ctx) => {
    const value = wholeNumber(raw);
    return value !== undefined && value > 0 && Number.isSafeInteger(value)
      ? value
      : reject(ctx, raw, "is not a positive whole number of milliseconds");
  });

const TRUE_WORDS = new Set(["true", "1"]);
const FALSE_WORDS = new Set(["false", "0"]);

const boolean = () =>
  z.string().transform((raw, ctx) => {
    const value = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(value)) return true;
    if (FALSE_WORDS.has(value)) return false;
    return reject(ctx, raw, "is not a boolean (true, false, 1 or 0)");
  });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.string().transform((raw, ctx): T[number] => {
    const value = raw.trim();
    return values.includes(value) ? (value as T[number]) : reject(ctx, raw, `is not one of ${values.join(", ")}`);
  });

/** A required secret. Its value never appears in an error message. */
const secret = () => {
  const schema = z.string().transform((raw, ctx) => {
    const value = raw.trim();
    return value.length > 0 ? value : reject(ctx, raw, "is empty");
  });
  secretSchemas.add(schema);
  return schema;
};

/** A secret that may be unset (an empty variable counts as unset). */
const optionalSecret = () => {
  const schema = secret().optional();
  secretSchemas.add(schema);
  return schema;
};

export const field = { url, port, positiveInt, nonNegativeInt, seconds, milliseconds, boolean, oneOf, secret, optionalSecret };
