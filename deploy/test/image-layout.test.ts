import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { createEmptyDatabase, describe, expect, freePort, stopService, test, testInfraUrls, waitReady, type ServiceProcess } from "@callflow/testkit";
import { envOf, finalStage, ignored, jsonArguments, keyword, stage } from "./support/dockerfile.ts";
import { helmTemplate, ofKind } from "./support/kube.ts";
import { ROOT } from "./support/paths.ts";

const run = promisify(execFile);
// A service with no Debian tools and no object storage: what is checked is the tree, not the tools.
const SERVICE = "aggregator";

/** The build context as Docker sends it: the repository's files less what .dockerignore leaves out. */
async function copyBuildContext(into: string): Promise<void> {
  const { stdout } = await run("git", ["ls-files", "-co", "--exclude-standard"], { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 });
  for (const file of stdout.split("\n").filter(Boolean)) {
    if (ignored.ignores(file) || !existsSync(`${ROOT}${file}`)) continue;
    mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
    cpSync(`${ROOT}${file}`, path.join(into, file));
  }
}

describe("the image's file tree", () => {
  test(
    "the build stage's own commands, run on a copy of the context, leave a tree where the chart's migration command migrates and start:built answers /readyz",
    async ({ messaging }) => {
      const app = mkdtempSync(path.join(tmpdir(), "callflow-image-"));
      const database = await createEmptyDatabase(testInfraUrls().postgres);
      let service: ServiceProcess | undefined;
      try {
        await copyBuildContext(app);
        // The build stage's RUN steps as written, but pnpm itself, which this machine has.
        const build = stage("build")!;
        const env = { ...process.env, ...envOf([build]), PATH: process.env.PATH!, SERVICE };
        for (const step of keyword([build], "RUN").map((instruction) => instruction.getArgumentsContent()!)) {
          if (step.startsWith("npm install -g")) continue;
          await run("bash", ["-euo", "pipefail", "-c", step], { cwd: app, env, maxBuffer: 64 * 1024 * 1024, timeout: 420_000 });
        }
        expect(readdirSync(`${app}/services`)).toEqual([SERVICE]);
        expect(existsSync(`${app}/services/${SERVICE}/src`)).toBe(false);

        // The chart's migration hook, with /app standing for the copy.
        const job = ofKind<{ spec: { template: { spec: { containers: { workingDir: string; command: string[] }[] } } } }>(await helmTemplate(), "Job")[0]!;
        const migrate = job.spec.template.spec.containers[0]!;
        const [program, ...args] = migrate.command;
        await run(program!, args, {
          cwd: path.join(app, path.relative("/app", migrate.workingDir)),
          env: { PATH: process.env.PATH!, HOME: app, CHECKPOINT_DISABLE: "1", DATABASE_URL: database.url },
          timeout: 180_000,
        });
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        const applied = await client.query("SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL").finally(() => client.end());
        expect(applied.rows[0].n).toBe(readdirSync(`${ROOT}packages/db/prisma/migrations`, { withFileTypes: true }).filter((entry) => entry.isDirectory()).length);

        // The image's command, from its WORKDIR, with its ENV.
        const workdir = keyword([finalStage], "WORKDIR").at(-1)!.getArgumentsContent()!.replace("${SERVICE}", SERVICE);
        const [node, ...bundle] = jsonArguments(keyword([finalStage], "CMD").at(-1));
        const port = await freePort();
        const child = spawn(node === "node" ? process.execPath : node!, bundle, {
          cwd: path.join(app, path.relative("/app", workdir)),
          env: {
            PATH: process.env.PATH!,
            ...envOf([finalStage]),
            CALLFLOW_DATABASE_URL: database.url,
            CALLFLOW_NATS_URL: testInfraUrls().nats,
            CALLFLOW_NAMESPACE: messaging.namespace,
            CALLFLOW_AGGREGATOR_OPS_PORT: String(port),
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        const keep = (data: Buffer) => (output = (output + data.toString()).slice(-20_000));
        child.stdout.on("data", keep);
        child.stderr.on("data", keep);
        service = { name: SERVICE, child, output: () => output };
        await waitReady(service, `http://127.0.0.1:${port}/readyz`, 120_000);
        expect(await stopService(service), output.slice(-1000)).toBe(0);
        service = undefined;
      } finally {
        if (service) await stopService(service);
        await database.drop();
        rmSync(app, { recursive: true, force: true });
      }
    },
    900_000,
  );
});
