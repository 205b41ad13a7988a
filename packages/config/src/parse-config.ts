import type { z } from "zod";
import { ConfigError, type ConfigProblem } from "./config-error.ts";
import { FIELD_ISSUE, isSecretField } from "./fields.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads one service's configuration from the environment. Each key of `schema` is an environment
 * variable name; the result is typed by the schema and frozen. An empty variable counts as unset, so
 * `CALLFLOW_X=` in a compose file falls back to the default. Throws a `ConfigError` naming every bad
 * variable and its value (secrets shown as `[redacted]`, URL passwords masked).
 */
export const parseConfig = <S extends z.ZodObject>(schema: S, env: Env = process.env): Readonly<z.output<S>> => {
  const input: Record<string, string | undefined> = {};
  for (const variable of Object.keys(schema.shape)) {
    const raw = env[variable];
    input[variable] = raw === "" ? undefined : raw;
  }

  const result = schema.safeParse(input);
  if (result.success) return deepFreeze(result.data);

  const problems: ConfigProblem[] = [];
  for (const issue of result.error.issues) {
    const variable = String(issue.path[0] ?? "(configuration)");
    const raw = input[variable];
    const fieldSchema = schema.shape[variable] as z.ZodType | undefined;
    problems.push({ variable, message: describeProblem(variable, raw, issue, fieldSchema) });
  }
  throw new ConfigError(problems);
};

const describeProblem = (
  variable: string,
  raw: string | undefined,
  issue: z.core.$ZodIssue,
  fieldSchema: z.ZodType | undefined,
): string => {
  if (raw === undefined) return `${variable} is required`;
  const shown = fieldSchema && isSecretField(fieldSchema) ? "[redacted]" : JSON.stringify(maskUrlPassword(raw));
  const fromField = issue.code === "custom" && issue.params?.[FIELD_ISSUE] === true;
  const predicate = fromField ? issue.message : `is invalid (${issue.message})`;
  return `${variable} ${predicate}: ${shown}`;
};

// postgres://user:password@host — the password must not reach logs through a config error.
const maskUrlPassword = (raw: string): string => raw.replace(/(\/\/[^/@:\s]*):[^/@\s]*@/g, "$1:***@");

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};
