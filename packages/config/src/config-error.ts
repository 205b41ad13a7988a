export interface ConfigProblem {
  /** The environment variable at fault, e.g. `CALLFLOW_NATS_URL`. */
  readonly variable: string;
  /** One line naming the variable, what is wrong and (unless secret) the value. */
  readonly message: string;
}

/** Thrown by `parseConfig` with every bad variable at once, so one restart fixes them all. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? "1 environment variable is" : `${problems.length} environment variables are`;
    super([`Invalid configuration: ${count} wrong`, ...problems.map((p) => `  ${p.message}`)].join("\n"));
    this.problems = Object.freeze([...problems]);
  }
}
