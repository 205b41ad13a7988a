import { readFileSync } from "node:fs";
import { ROOT } from "./paths.ts";

/** One row of a README's `| variable | default | meaning |` table, one variable at a time. */
export interface ReadmeVariable {
  name: string;
  default: string;
}

// Splits "`a`, `b`, 10" at top-level commas (not inside backticks or parentheses).
const splitDefaults = (cell: string): string[] => {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = "";
  for (const char of cell) {
    if (char === "`") quoted = !quoted;
    if (!quoted && char === "(") depth += 1;
    if (!quoted && char === ")") depth -= 1;
    if (char === "," && !quoted && depth === 0) {
      parts.push(current.trim());
      current = "";
    } else current += char;
  }
  return [...parts, current.trim()];
};

/** Every variable a README's configuration tables list, with the default written beside it. */
export function readmeVariables(file: string): ReadmeVariable[] {
  const rows: ReadmeVariable[] = [];
  let inTable = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (/^\|\s*variable\s*\|\s*default\s*\|/.test(line)) inTable = true;
    else if (!line.startsWith("|")) inTable = false;
    if (!inTable || /^\|\s*(variable|-)/.test(line)) continue;
    const [names = "", defaults = ""] = line.split("|").slice(1).map((cell) => cell.trim());
    const variables = [...names.matchAll(/`((?:CALLFLOW|OTEL)_[A-Z0-9_]*\*?)`/g)].map((match) => match[1]!);
    const values = splitDefaults(defaults);
    variables.forEach((name, i) => rows.push({ name, default: values.length === variables.length ? values[i]! : defaults }));
  }
  return rows;
}

// A default that only works on the developer's machine: a loopback URL, the local database, the
// embedded object store. A container must be given the real address instead.
const LOCAL_DEFAULT = /^(`?[a-z]+:\/\/[^`]*(127\.0\.0\.1|localhost)|local `|unset: embedded|embedded)/;

/**
 * The variables a service's README requires of a deployment: those whose default is local. A
 * wildcard row (`CALLFLOW_S3_*`) stands for the shared variables of that prefix the root README
 * requires in the same way.
 */
export function requiredVariables(service: string): string[] {
  const shared = readmeVariables(`${ROOT}README.md`);
  const required = new Set<string>();
  for (const row of readmeVariables(`${ROOT}services/${service}/README.md`)) {
    if (!LOCAL_DEFAULT.test(row.default)) continue;
    if (!row.name.endsWith("*")) required.add(row.name);
    else for (const match of shared) if (match.name.startsWith(row.name.slice(0, -1)) && LOCAL_DEFAULT.test(match.default)) required.add(match.name);
  }
  return [...required].sort();
}

/** The required variables a service's environment leaves unset or empty. */
export const missingRequired = (service: string, env: Record<string, string | undefined>): string[] =>
  requiredVariables(service).filter((name) => !env[name]);
