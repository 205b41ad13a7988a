import { readFileSync, readdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { consumers, topology, type ConsumerKey } from "@callflow/contracts";
import { helmDryRunInstall, helmLint, helmRefusal, helmTemplate, ofKind, type KubeObject } from "./support/kube.ts";
import { validateObject } from "./support/models.ts";
import { CHART, K8S, ROOT } from "./support/paths.ts";
import { missingRequired } from "./support/readme-variables.ts";
import { QUEUE_WORKERS, SERVICES, serviceDirectories } from "./support/services.ts";
import { componentOf, containerEnv, deploymentOf, deployments, probePort } from "./support/workloads.ts";

const CI_VALUES = readdirSync(`${CHART}/ci`).filter((file) => file.endsWith("-values.yaml")).sort();
const OVERLAY_VALUES = readdirSync(`${K8S}/overlays`).map((overlay) => `k8s/overlays/${overlay}/callflow-values.yaml`);
const ci = (file: string) => `${CHART}/ci/${file}`;

interface ScaledObject extends KubeObject {
  spec: { scaleTargetRef: { name: string }; triggers: { type: string; metadata: Record<string, string> }[] };
}
interface Hpa extends KubeObject {
  spec: { scaleTargetRef: { kind: string; name: string }; metrics: { resource?: { name: string } }[] };
}

/** Each trigger's stream/consumer that packages/contracts does not declare for the namespace. */
const undeclaredConsumers = (objects: KubeObject[], namespace: string): string[] => {
  const names = topology(namespace);
  const declared = new Set((Object.keys(consumers) as ConsumerKey[]).map((key) => `${names.consumer(key).stream}/${names.consumer(key).durable}`));
  return ofKind<ScaledObject>(objects, "ScaledObject")
    .flatMap((object) => object.spec.triggers)
    .map((trigger) => `${trigger.metadata.stream}/${trigger.metadata.consumer}`)
    .filter((pair) => !declared.has(pair));
};

const rendered = new Map<string, KubeObject[]>();
beforeAll(async () => {
  for (const file of CI_VALUES) rendered.set(file, await helmTemplate({ valuesFiles: [ci(file)] }));
}, 120_000);
const objectsOf = (file: string) => rendered.get(file)!;

// The runtime's drain grace: consumers finish in-flight work within it at SIGTERM (every service uses
// it or less: ingest 10 s, merge and transcription min(ack wait, it)).
const DRAIN_GRACE_MS = Number(/graceMs \?\? ([\d_]+)/.exec(readFileSync(`${ROOT}packages/messaging/src/runtime.ts`, "utf8"))![1]!.replaceAll("_", ""));

describe("the chart's ci values", () => {
  it("are the three shapes that must render: minimal, production, external S3", () => {
    expect(CI_VALUES).toEqual(["external-s3-values.yaml", "minimal-values.yaml", "production-values.yaml"]);
  });

  it.each(CI_VALUES)("%s passes helm lint --strict", async (file) => {
    expect(await helmLint({ valuesFiles: [ci(file)] })).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it.each(CI_VALUES)("with %s, a client-side dry-run install renders the release notes with ingest's address", async (file) => {
    const notes = (await helmDryRunInstall({ valuesFiles: [ci(file)] })).split("NOTES:")[1] ?? "";
    const values = parse(readFileSync(ci(file), "utf8")) as { callflow?: { publicUrl?: string } };
    expect(notes).toContain(`The API: ${values.callflow?.publicUrl ?? "http://callflow-ingest"}`);
  });

  it.each(CI_VALUES)("every object rendered from %s validates against its Kubernetes model", async (file) => {
    const objects = objectsOf(file);
    expect(objects.length).toBeGreaterThan(20);
    for (const object of objects) expect(await validateObject(object), `${object.apiVersion} ${object.kind}`).toBe("validated");
  });

  it.each(OVERLAY_VALUES)("the chart renders and validates with %s", async (file) => {
    for (const object of await helmTemplate({ valuesFiles: [`${ROOT}${file}`] })) expect(await validateObject(object)).toBe("validated");
  });

  it("validation refuses an object that breaks its schema", async () => {
    const deployment = structuredClone(deploymentOf(objectsOf("minimal-values.yaml"), "merge"));
    (deployment.spec.template.spec.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = "http";
    await expect(validateObject(deployment)).rejects.toThrow(/containerPort/);
  });
});

describe("the services", () => {
  it("are every folder under services/, each a Deployment with a Service, ServiceAccount, PodDisruptionBudget and ConfigMap", () => {
    const objects = objectsOf("minimal-values.yaml");
    expect(Object.keys(SERVICES).sort()).toEqual(serviceDirectories());
    for (const kind of ["Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"]) {
      expect(ofKind(objects, kind).map(componentOf).filter((c) => c !== "migrations").sort(), kind).toEqual(serviceDirectories());
    }
    expect(ofKind(objects, "ConfigMap").map(componentOf).sort()).toEqual(serviceDirectories());
  });

  it.each(CI_VALUES)("with %s, probe /healthz and /readyz on the port each service's own configuration reads from its rendered environment", (file) => {
    const objects = objectsOf(file);
    for (const [service, reader] of Object.entries(SERVICES)) {
      const container = deploymentOf(objects, service).spec.template.spec.containers[0]!;
      const configured = reader.opsPort(containerEnv(objects, container));
      expect(configured, `${service}: the chart's port is the service's default`).toBe(reader.opsPort({}));
      expect(container.livenessProbe?.httpGet?.path).toBe("/healthz");
      expect(container.readinessProbe?.httpGet?.path).toBe("/readyz");
      expect(probePort(container, container.livenessProbe?.httpGet?.port), service).toBe(configured);
      expect(probePort(container, container.readinessProbe?.httpGet?.port), service).toBe(configured);
    }
  });

  it.each(CI_VALUES)("with %s, every service gets each variable its README requires of a deployment", (file) => {
    const objects = objectsOf(file);
    for (const service of Object.keys(SERVICES)) {
      const env = containerEnv(objects, deploymentOf(objects, service).spec.template.spec.containers[0]!);
      expect(missingRequired(service, env), service).toEqual([]);
    }
  });

  it("stop within their grace period: the pre-stop pause plus the drain grace fit inside terminationGracePeriodSeconds", () => {
    expect(DRAIN_GRACE_MS).toBeGreaterThan(0);
    for (const deployment of deployments(objectsOf("production-values.yaml"))) {
      const pod = deployment.spec.template.spec;
      const [sleep, seconds] = pod.containers[0]!.lifecycle?.preStop?.exec?.command ?? ["/bin/sleep", "0"];
      expect(sleep).toBe("/bin/sleep");
      const preStop = Number(seconds);
      expect((pod.terminationGracePeriodSeconds ?? 30) * 1000, deployment.metadata.name).toBeGreaterThan(preStop * 1000 + DRAIN_GRACE_MS);
    }
  });

  it("run restricted: non-root, read-only root filesystem, no privilege escalation, no capabilities, scratch audio on an emptyDir", () => {
    for (const deployment of deployments(objectsOf("production-values.yaml"))) {
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0]!;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
      const scratch = container.volumeMounts?.find((mount) => mount.mountPath === "/tmp");
      expect(pod.volumes?.find((volume) => volume.name === scratch?.name)?.emptyDir).toBeDefined();
    }
  });

  it("spread each service's own pods: a topology constraint without a selector gets the service's", () => {
    for (const deployment of deployments(objectsOf("production-values.yaml"))) {
      const constraints = (deployment.spec.template.spec as { topologySpreadConstraints?: { labelSelector?: { matchLabels: Record<string, string> } }[] }).topologySpreadConstraints;
      expect(constraints?.length, deployment.metadata.name).toBeGreaterThan(0);
      for (const constraint of constraints ?? []) expect(constraint.labelSelector?.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    }
  });

  it("take credentials only from Secrets named in values, never a literal", () => {
    for (const deployment of deployments(objectsOf("production-values.yaml"))) {
      for (const variable of deployment.spec.template.spec.containers[0]!.env ?? []) {
        expect(variable.valueFrom?.secretKeyRef, variable.name).toBeDefined();
      }
    }
    expect(ofKind(objectsOf("production-values.yaml"), "Secret")).toEqual([]);
  });

  it("restart when their configuration changes: checksum/config follows the ConfigMap", async () => {
    const before = objectsOf("minimal-values.yaml");
    const after = await helmTemplate({ valuesFiles: [ci("minimal-values.yaml")], set: { "callflow.logLevel": "debug" } });
    for (const deployment of deployments(before)) {
      const checksum = (objects: KubeObject[]) => deploymentOf(objects, componentOf(deployment)).spec.template.metadata.annotations?.["checksum/config"];
      expect(checksum(before)).toMatch(/^[0-9a-f]{64}$/);
      expect(checksum(after)).not.toBe(checksum(before));
    }
  });

  it("select pods by immutable labels only, and each Service selects its own Deployment's pods", () => {
    const objects = objectsOf("production-values.yaml");
    for (const deployment of deployments(objects)) {
      const selector = deployment.spec.selector.matchLabels;
      expect(Object.keys(selector).sort()).toEqual(["app.kubernetes.io/component", "app.kubernetes.io/instance", "app.kubernetes.io/name"]);
      expect(deployment.spec.template.metadata.labels).toMatchObject(selector);
      const service = ofKind<{ spec: { selector: Record<string, string> } }>(objects, "Service").find((s) => componentOf(s) === componentOf(deployment));
      expect(service?.spec.selector).toEqual(selector);
    }
  });

  it("name no namespace, and use the chart's appVersion as the image tag by default", () => {
    const chart = parse(readFileSync(`${CHART}/Chart.yaml`, "utf8")) as { appVersion: string };
    const objects = objectsOf("minimal-values.yaml");
    expect(objects.filter((object) => object.metadata.namespace)).toEqual([]);
    for (const deployment of deployments(objects)) {
      expect(deployment.spec.template.spec.containers[0]!.image).toBe(`callflow/${componentOf(deployment)}:${chart.appVersion}`);
    }
  });
});

describe("autoscaling", () => {
  const targets = (objects: KubeObject[], kind: string) =>
    ofKind<{ spec: { scaleTargetRef: { name: string } } }>(objects, kind).map((object) => object.spec.scaleTargetRef.name);

  it.each(CI_VALUES)("with %s, no Deployment has both an HPA and a ScaledObject, and each names a Deployment that exists", (file) => {
    const objects = objectsOf(file);
    const hpa = targets(objects, "HorizontalPodAutoscaler");
    const keda = targets(objects, "ScaledObject");
    expect(hpa.filter((name) => keda.includes(name))).toEqual([]);
    const names = deployments(objects).map((deployment) => deployment.metadata.name);
    for (const name of [...hpa, ...keda]) expect(names).toContain(name);
    for (const deployment of deployments(objects)) {
      const scaled = [...hpa, ...keda].includes(deployment.metadata.name);
      expect(deployment.spec.replicas === undefined, `${deployment.metadata.name}: replicas set only when no autoscaler owns them`).toBe(scaled);
    }
  });

  it("with production values, every queue worker scales on its consumers with KEDA and has no HPA; ingest has a CPU HPA", () => {
    const objects = objectsOf("production-values.yaml");
    const byService = (kind: string) => ofKind(objects, kind).map(componentOf).sort();
    expect(byService("ScaledObject")).toEqual(QUEUE_WORKERS);
    expect(byService("HorizontalPodAutoscaler")).toEqual(["ingest"]);
    const hpa = ofKind<Hpa>(objects, "HorizontalPodAutoscaler")[0]!;
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.metrics.map((metric) => metric.resource?.name)).toEqual(["cpu"]);
  });

  it.each(["production-values.yaml", "external-s3-values.yaml"])(
    "with %s, every ScaledObject trigger names a stream and durable consumer packages/contracts declares for the release's namespace",
    (file) => {
      const objects = objectsOf(file);
      const values = parse(readFileSync(ci(file), "utf8")) as { callflow?: { namespace?: string } };
      const triggers = ofKind<ScaledObject>(objects, "ScaledObject").flatMap((object) => object.spec.triggers);
      expect(triggers.length).toBeGreaterThanOrEqual(QUEUE_WORKERS.length);
      expect(undeclaredConsumers(objects, values.callflow?.namespace ?? "callflow")).toEqual([]);
      for (const trigger of triggers) {
        expect(trigger.type).toBe("nats-jetstream");
        const { lagThreshold, activationLagThreshold, natsServerMonitoringEndpoint, account } = trigger.metadata;
        expect(Number(lagThreshold)).toBeGreaterThan(0);
        expect(Number(activationLagThreshold)).toBeGreaterThanOrEqual(0);
        expect(natsServerMonitoringEndpoint).toMatch(/^[^/]+:\d+$/);
        expect(account).toBeTruthy();
      }
    },
  );

  it("catches a consumer the contracts do not declare, and names checked against another namespace", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "callflow-values-")), "values.yaml");
    writeFileSync(file, "keda:\n  enabled: true\nservices:\n  merge:\n    autoscaling:\n      kind: keda\n      triggers:\n        - { stream: CALLS, consumer: merger, lagThreshold: 4 }\n");
    expect(undeclaredConsumers(await helmTemplate({ valuesFiles: [file] }), "callflow")).toEqual(["CALLFLOW_CALLS/callflow_merger"]);
    expect(undeclaredConsumers(objectsOf("production-values.yaml"), "acme")).toHaveLength(
      ofKind<ScaledObject>(objectsOf("production-values.yaml"), "ScaledObject").flatMap((object) => object.spec.triggers).length,
    );
  });
});

describe("the migration hook", () => {
  it("runs prisma migrate deploy before install and upgrade, with the CLI the ingest image carries", () => {
    const objects = objectsOf("minimal-values.yaml");
    const job = ofKind<{ spec: { template: { spec: { containers: { image: string; workingDir: string; command: string[]; env: { name: string }[] }[] } } } }>(objects, "Job")[0]!;
    expect(job.metadata.annotations?.["helm.sh/hook"]).toBe("pre-install,pre-upgrade");
    const container = job.spec.template.spec.containers[0]!;
    expect(container.image).toMatch(/^callflow\/ingest:/);
    expect(container.command.slice(-2)).toEqual(["migrate", "deploy"]);
    // The image's /app is this repository's layout (Dockerfile): the script exists at the same place here.
    const script = path.join(ROOT, path.relative("/app", container.workingDir), container.command[1]!);
    expect(readFileSync(script, "utf8").length).toBeGreaterThan(0);
    expect(container.env.map((variable) => variable.name)).toContain("DATABASE_URL");
    // A hook runs before the release's other objects exist: its ServiceAccount is a hook too.
    const account = objects.find((object) => object.kind === "ServiceAccount" && componentOf(object) === "migrations");
    expect(account?.metadata.annotations?.["helm.sh/hook"]).toBe("pre-install,pre-upgrade");
    expect(Number(account?.metadata.annotations?.["helm.sh/hook-weight"])).toBeLessThan(Number(job.metadata.annotations?.["helm.sh/hook-weight"]));
  });
});

describe("monitoring", () => {
  const production = () => objectsOf("production-values.yaml");

  it("has one ConfigMap labelled grafana_dashboard per dashboards/*.json, holding the file as it is", () => {
    const files = readdirSync(`${CHART}/dashboards`).filter((file) => file.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    const maps = ofKind<{ data: Record<string, string> }>(production(), "ConfigMap").filter((map) => map.metadata.labels?.grafana_dashboard === "1");
    expect(maps.map((map) => Object.keys(map.data)).flat().sort()).toEqual(files.sort());
    for (const map of maps) {
      for (const [file, text] of Object.entries(map.data)) expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(`${CHART}/dashboards/${file}`, "utf8")));
    }
  });

  it("has a PrometheusRule whose groups are files/alerts.yaml's, the file compose's Prometheus loads", () => {
    const rules = ofKind<{ spec: { groups: unknown[] } }>(production(), "PrometheusRule");
    expect(rules).toHaveLength(1);
    const file = parse(readFileSync(`${CHART}/files/alerts.yaml`, "utf8")) as { groups: unknown[] };
    expect(rules[0]!.spec.groups).toEqual(file.groups);
  });

  it("scrapes every service's /metrics through one ServiceMonitor selecting their Services' http port", () => {
    const objects = production();
    const monitor = ofKind<{ spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } }>(objects, "ServiceMonitor")[0]!;
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: "http", path: "/metrics" })]);
    const selected = ofKind<{ spec: { ports: { name: string }[] } }>(objects, "Service").filter((service) =>
      Object.entries(monitor.spec.selector.matchLabels).every(([key, value]) => service.metadata.labels?.[key] === value),
    );
    expect(selected.map(componentOf).sort()).toEqual(serviceDirectories());
    for (const service of selected) expect(service.spec.ports.map((port) => port.name)).toContain("http");
  });

  it("renders no monitoring or KEDA objects with the minimal values (their CRDs may be absent)", () => {
    const kinds = new Set(objectsOf("minimal-values.yaml").map((object) => object.kind));
    for (const kind of ["ServiceMonitor", "PrometheusRule", "ScaledObject"]) expect(kinds.has(kind)).toBe(false);
  });
});

describe("values.schema.json", () => {
  const refusalOf = (values: string) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "callflow-values-")), "values.yaml");
    writeFileSync(file, values);
    return helmRefusal({ valuesFiles: [file] });
  };

  it("refuses an HPA and a ScaledObject asked for on one service", async () => {
    expect(await refusalOf("services:\n  ingest:\n    autoscaling:\n      kind: both\n")).toMatch(/services\/ingest\/autoscaling\/kind/);
  });

  it("refuses a replica count that is not a number", async () => {
    expect(await refusalOf("services:\n  merge:\n    replicas: three\n")).toMatch(/services\/merge\/replicas/);
  });

  it("refuses a service the chart does not know and a misspelt setting", async () => {
    expect(await refusalOf("services:\n  billing:\n    port: 9200\n    portVariable: CALLFLOW_BILLING_OPS_PORT\n")).toMatch(/billing/);
    expect(await refusalOf("defaults:\n  terminationGracePeriod: 30\n")).toMatch(/terminationGracePeriod/);
  });

  it("refuses a KEDA trigger without its consumer, and a namespace CALLFLOW_NAMESPACE would refuse", async () => {
    expect(await refusalOf("services:\n  merge:\n    autoscaling:\n      kind: keda\n      triggers:\n        - { stream: CALLS, lagThreshold: 4 }\n")).toMatch(/consumer/);
    expect(await refusalOf("callflow:\n  namespace: Call-Flow\n")).toMatch(/callflow\/namespace/);
  });
});
