import { existsSync, readFileSync, readdirSync } from "node:fs";
import type { Instruction } from "dockerfile-ast";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { aptPackages, envOf, finalStage, ignored, jsonArguments, keyword, lineage, stage, stages, startBuilt } from "./support/dockerfile.ts";
import { helmTemplate } from "./support/kube.ts";
import { ROOT } from "./support/paths.ts";
import { SERVICES, serviceDirectories } from "./support/services.ts";
import { deployments } from "./support/workloads.ts";

// Where each binary a service's configuration names by default comes from in Debian.
const DEBIAN_PACKAGE_OF: Record<string, string> = { ffmpeg: "ffmpeg", ffprobe: "ffmpeg", pocketsphinx_continuous: "pocketsphinx" };

describe("the Dockerfile", () => {
  it.each(serviceDirectories())("built with SERVICE=%s runs what its start:built runs, from its folder, under tini", (service) => {
    const chain = lineage(service);
    expect(chain.map((s) => s.name)).toContain(`tools-${service}`);
    const { env, command } = startBuilt(service);
    expect(jsonArguments(keyword([finalStage], "CMD").at(-1))).toEqual(command);
    expect(envOf(chain)).toMatchObject(env);
    expect(keyword([finalStage], "WORKDIR").at(-1)?.getArgumentsContent()?.replace("${SERVICE}", service)).toBe(`/app/services/${service}`);
    expect(jsonArguments(keyword(chain, "ENTRYPOINT").at(-1))).toEqual(["/usr/bin/tini", "--"]);
    expect(aptPackages(stage("runtime")!)).toContain("tini");
    // The command's file is what the build script writes.
    expect(readFileSync(`${ROOT}scripts/build-service.mjs`, "utf8")).toContain(`"dist/main.mjs"`);
  });

  it("has a tools stage for exactly the services there are", () => {
    const tools = stages.filter((s) => s.name.startsWith("tools-")).map((s) => s.name.slice("tools-".length)).sort();
    expect(tools).toEqual(serviceDirectories());
  });

  it.each(serviceDirectories())("gives %s the Debian packages of the binaries its configuration runs, and no audio tools it does not", (service) => {
    const packages = aptPackages(stage(`tools-${service}`)!);
    const needed = SERVICES[service]!.tools({}).map((binary) => DEBIAN_PACKAGE_OF[binary]);
    for (const name of needed) expect(packages, service).toContain(name);
    if (needed.length === 0 && service !== "outbound-dialer") expect(packages).toEqual([]);
  });

  it("runs as the unprivileged user the chart's pods run as", async () => {
    const [user] = (keyword([finalStage], "USER").at(-1)?.getArgumentsContent() ?? "").split(":");
    expect(Number(user)).toBeGreaterThan(0);
    for (const deployment of deployments(await helmTemplate())) {
      expect(deployment.spec.template.spec.securityContext?.runAsUser).toBe(Number(user));
    }
  });

  it("copies only what exists: every COPY source is in the build context, every --from an earlier stage", () => {
    let copies = 0;
    for (const [index, s] of stages.entries()) {
      for (const copy of keyword([s], "COPY")) {
        copies += 1;
        const flags = (copy as Instruction & { getFlags(): { getName(): string; getValue(): string | null }[] }).getFlags();
        const from = flags.find((flag) => flag.getName() === "from")?.getValue();
        const sources = copy.getArguments().map((argument) => argument.getValue()).slice(0, -1);
        if (from) {
          expect(stages.slice(0, index).map((earlier) => earlier.name)).toContain(from);
          continue;
        }
        for (const source of sources) {
          expect(existsSync(`${ROOT}${source}`), source).toBe(true);
          if (source !== ".") expect(ignored.ignores(source), `${source} is excluded by .dockerignore`).toBe(false);
        }
      }
    }
    expect(copies).toBeGreaterThanOrEqual(2);
  });

  it("installs the pnpm version package.json names", () => {
    const { packageManager } = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { packageManager: string };
    expect(keyword([stage("build")!], "RUN").map((run) => run.getArgumentsContent()).join("\n")).toContain(packageManager.replace("pnpm@", "pnpm@"));
  });
});

describe(".dockerignore", () => {
  it("keeps the lockfile, the build script and every workspace package in the context, and leaves dependencies and build output out", () => {
    const workspace = parse(readFileSync(`${ROOT}pnpm-workspace.yaml`, "utf8")) as { packages: string[] };
    const packageDirs = workspace.packages.flatMap((pattern) =>
      pattern.endsWith("/*") ? readdirSync(`${ROOT}${pattern.slice(0, -2)}`).map((name) => `${pattern.slice(0, -2)}/${name}`) : [pattern],
    );
    for (const file of ["pnpm-lock.yaml", "pnpm-workspace.yaml", "package.json", "scripts/build-service.mjs", ...packageDirs.map((dir) => `${dir}/package.json`)]) {
      expect(ignored.ignores(file), file).toBe(false);
    }
    for (const file of ["node_modules/x", "services/ingest/node_modules/x", "services/ingest/dist/main.mjs", ".git/HEAD"]) {
      expect(ignored.ignores(file), file).toBe(true);
    }
  });
});
