import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { ROOT } from "./paths.ts";

// A CommonJS module whose typings declare a default export it does not have under ESM interop.
const dockerignore = createRequire(import.meta.url)("@balena/dockerignore") as typeof import("@balena/dockerignore").default;
export const dockerfile = DockerfileParser.parse(readFileSync(`${ROOT}Dockerfile`, "utf8"));
export const ignored = dockerignore({ ignorecase: false }).add(readFileSync(`${ROOT}.dockerignore`, "utf8").split("\n"));

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages in order, each with the instructions under its FROM. */
export const stages: Stage[] = [];
for (const instruction of dockerfile.getInstructions()) {
  if (instruction.getKeyword() === "FROM") {
    const [base, , name] = instruction.getArguments().map((argument) => argument.getValue());
    stages.push({ name: name ?? `stage-${stages.length}`, base: base!, instructions: [] });
  } else stages.at(-1)?.instructions.push(instruction);
}
export const stage = (name: string) => stages.find((candidate) => candidate.name === name);
export const finalStage = stages.at(-1)!;

/** A stage and the stages it is built FROM, nearest first, for one SERVICE build argument. */
export const lineage = (service: string): Stage[] => {
  const chain: Stage[] = [];
  for (let current = finalStage as Stage | undefined; current; current = stage(current.base.replace("${SERVICE}", service))) chain.push(current);
  return chain;
};
export const keyword = (chain: Stage[], word: string) => chain.flatMap((s) => s.instructions.filter((i) => i.getKeyword() === word));
export const jsonArguments = (instruction: Instruction | undefined): string[] => JSON.parse(instruction?.getArgumentsContent() ?? "null") as string[];
export const envOf = (chain: Stage[]): Record<string, string> =>
  Object.fromEntries(
    [...chain]
      .reverse()
      .flatMap((s) => keyword([s], "ENV"))
      .flatMap((instruction) => instruction.getArguments().map((argument) => argument.getValue().split("=") as [string, string])),
  );
export const aptPackages = (s: Stage): string[] =>
  keyword([s], "RUN")
    .flatMap((run) => [...(run.getArgumentsContent() ?? "").matchAll(/apt-get install ([^&]+)/g)])
    .flatMap((match) => match[1]!.split(/\s+/).filter((word) => word && !word.startsWith("-")));

/** `MALLOC_ARENA_MAX=2 node dist/main.mjs` → its variables and its command. */
export const startBuilt = (service: string) => {
  const manifest = JSON.parse(readFileSync(`${ROOT}services/${service}/package.json`, "utf8")) as { scripts: Record<string, string> };
  const words = manifest.scripts["start:built"]!.trim().split(/\s+/);
  const env = Object.fromEntries(words.filter((word) => /^[A-Z_]+=/.test(word)).map((word) => word.split("=") as [string, string]));
  return { env, command: words.filter((word) => !/^[A-Z_]+=/.test(word)) };
};

