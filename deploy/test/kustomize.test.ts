import { readFileSync, readdirSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { helmTemplate, kustomize, named, ofKind, parseObjects, type KubeObject } from "./support/kube.ts";
import { validateObject } from "./support/models.ts";
import { CHART, K8S, ROOT } from "./support/paths.ts";
import { deployments, type Workload } from "./support/workloads.ts";

const OVERLAYS = readdirSync(`${K8S}/overlays`).sort();
// Kinds no model package covers: CloudNativePG's Cluster, installed by its operator's chart.
const WITHOUT_MODEL = new Set(["postgresql.cnpg.io/v1 Cluster"]);

const rendered = new Map<string, KubeObject[]>();
beforeAll(async () => {
  for (const overlay of OVERLAYS) rendered.set(overlay, await kustomize(`${K8S}/overlays/${overlay}`));
}, 60_000);

interface SecretLike extends KubeObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
const secretKeys = (secret: SecretLike) => Object.keys({ ...secret.data, ...secret.stringData }).sort();

/** The Secrets (name → keys) a chart render reads, from its Deployments and hook Job. */
const secretsReadBy = (objects: KubeObject[]): Map<string, { key: string; optional: boolean }[]> => {
  const reads = new Map<string, { key: string; optional: boolean }[]>();
  const pods = [...deployments(objects), ...ofKind<Workload>(objects, "Job")].map((workload) => workload.spec.template.spec);
  for (const variable of pods.flatMap((pod) => pod.containers.flatMap((container) => container.env ?? []))) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) reads.set(ref.name, [...(reads.get(ref.name) ?? []), { key: ref.key, optional: ref.optional ?? false }]);
  }
  return reads;
};

describe("k8s/", () => {
  it("has a dev and a production overlay", () => {
    expect(OVERLAYS).toEqual(["dev", "production"]);
  });

  it.each(OVERLAYS)("kubectl kustomize renders the %s overlay, every object with a model validating", async (overlay) => {
    const objects = rendered.get(overlay)!;
    expect(named(objects, "Namespace", "callflow")).toBeDefined();
    for (const object of objects) {
      const outcome = await validateObject(object);
      if (outcome === "no model") expect(WITHOUT_MODEL, `${object.apiVersion} ${object.kind} has no model`).toContain(`${object.apiVersion} ${object.kind}`);
    }
    for (const object of objects.filter((o) => o.kind !== "Namespace")) expect(object.metadata.namespace, object.metadata.name).toBe("callflow");
  });

  it.each(OVERLAYS)("the %s overlay provides every Secret and key the chart reads with its callflow-values.yaml", async (overlay) => {
    const objects = rendered.get(overlay)!;
    const chart = await helmTemplate({ valuesFiles: [`${K8S}/overlays/${overlay}/callflow-values.yaml`] });
    // CloudNativePG writes <cluster>-app (with `uri`) for each Cluster; the other Secrets come from the overlay.
    const provided = new Map<string, string[]>(ofKind<SecretLike>(objects, "Secret").map((secret) => [secret.metadata.name, secretKeys(secret)]));
    for (const cluster of ofKind(objects, "Cluster")) provided.set(`${cluster.metadata.name}-app`, ["uri"]);
    // Production creates provider keys out of band, from the shapes in k8s/secrets.
    for (const shape of readdirSync(`${K8S}/secrets`)) {
      const [secret] = parseObjects(readFileSync(`${K8S}/secrets/${shape}`, "utf8")) as SecretLike[];
      if (!provided.has(secret!.metadata.name)) provided.set(secret!.metadata.name, secretKeys(secret!));
    }
    for (const [name, reads] of secretsReadBy(chart)) {
      expect(provided.has(name), `${overlay}: Secret ${name}`).toBe(true);
      for (const { key, optional } of reads) if (!optional) expect(provided.get(name), `${overlay}: ${name}.${key}`).toContain(key);
    }
  });

  it("production runs three Postgres instances with synchronous replication, dev one", () => {
    const instances = (overlay: string) => (named(rendered.get(overlay)!, "Cluster", "callflow-db") as KubeObject & { spec: { instances: number; minSyncReplicas?: number } }).spec;
    expect(instances("production")).toMatchObject({ instances: 3, minSyncReplicas: 1 });
    expect(instances("dev").instances).toBe(1);
  });

  it("dev has MinIO with the bucket the chart's dev values name; production has none", () => {
    const dev = rendered.get("dev")!;
    const values = parse(readFileSync(`${K8S}/overlays/dev/callflow-values.yaml`, "utf8")) as { callflow: { s3: { endpoint: string; bucket?: string } } };
    const defaults = parse(readFileSync(`${CHART}/values.yaml`, "utf8")) as { callflow: { s3: { bucket: string } } };
    const service = named(dev, "Service", "minio") as KubeObject & { spec: { ports: { port: number }[] } };
    const endpoint = new URL(values.callflow.s3.endpoint);
    expect(endpoint.hostname.split(".")[0]).toBe(service.metadata.name);
    expect(service.spec.ports.map((port) => port.port)).toContain(Number(endpoint.port));
    const job = JSON.stringify(named(dev, "Job", "minio-bucket"));
    expect(job).toContain(`local/${values.callflow.s3.bucket ?? defaults.callflow.s3.bucket}`);
    expect(ofKind(rendered.get("production")!, "Deployment")).toEqual([]);
  });

  it("the Secret shapes in k8s/secrets validate and carry every key the chart's default values read", async () => {
    const shapes = readdirSync(`${K8S}/secrets`).flatMap((file) => parseObjects(readFileSync(`${K8S}/secrets/${file}`, "utf8"))) as SecretLike[];
    for (const shape of shapes) {
      expect(await validateObject(shape)).toBe("validated");
      expect(Object.values(shape.stringData ?? {}).every((value) => value === ""), `${shape.metadata.name} holds no value`).toBe(true);
    }
    const chart = await helmTemplate({ set: { "callflow.s3.existingSecret": "callflow-s3" } });
    for (const [name, reads] of secretsReadBy(chart)) {
      const shape = shapes.find((candidate) => candidate.metadata.name === name);
      if (name === "callflow-db-app") continue; // written by CloudNativePG
      expect(shape, `a shape for ${name}`).toBeDefined();
      for (const { key } of reads) expect(secretKeys(shape!), `${name}.${key}`).toContain(key);
    }
  });
});

describe("the Helm installs before the chart", () => {
  const nats = parse(readFileSync(`${K8S}/helm/nats-values.yaml`, "utf8")) as {
    config: { cluster: { enabled: boolean; replicas: number }; jetstream: { enabled: boolean; fileStore: { enabled: boolean; pvc: { enabled: boolean } } }; monitor: { enabled: boolean; port: number } };
  };
  const chartValues = parse(readFileSync(`${CHART}/values.yaml`, "utf8")) as { callflow: { nats: { url: string; monitoringEndpoint: string } } };

  it("NATS: three servers, JetStream on persistent file storage, the monitoring port KEDA reads", () => {
    expect(nats.config.cluster).toMatchObject({ enabled: true, replicas: 3 });
    expect(nats.config.jetstream).toMatchObject({ enabled: true, fileStore: { enabled: true, pvc: { enabled: true } } });
    expect(nats.config.monitor.enabled).toBe(true);
    const [host, port] = chartValues.callflow.nats.monitoringEndpoint.split(":");
    expect(Number(port)).toBe(nats.config.monitor.port);
    // KEDA asks the consumer's leader at <server>.<endpoint>: the release's headless Service, namespace nats.
    expect(host).toBe("nats-headless.nats.svc.cluster.local");
    expect(new URL(chartValues.callflow.nats.url).hostname).toBe("nats.nats.svc.cluster.local");
  });

  it("kube-prometheus-stack picks up the chart's dashboards by their label and its monitors without a release label", () => {
    const stack = parse(readFileSync(`${K8S}/helm/kube-prometheus-stack-values.yaml`, "utf8")) as {
      prometheus: { prometheusSpec: Record<string, unknown> };
      grafana: { sidecar: { dashboards: { label: string; labelValue: string; searchNamespace: string } } };
    };
    expect(stack.grafana.sidecar.dashboards).toMatchObject({ label: "grafana_dashboard", labelValue: "1", searchNamespace: "ALL" });
    expect(stack.prometheus.prometheusSpec).toMatchObject({ serviceMonitorSelectorNilUsesHelmValues: false, ruleSelectorNilUsesHelmValues: false });
  });

  it("the README walks through k8s/ before the chart, naming every install", () => {
    const readme = readFileSync(`${ROOT}README.md`, "utf8");
    const section = readme.slice(readme.indexOf("## Install on Kubernetes"));
    expect(section.length).toBeGreaterThan(100);
    const order = ["k8s/helm/nats-values.yaml", "k8s/helm/keda-values.yaml", "k8s/helm/kube-prometheus-stack-values.yaml", "cloudnative-pg", "kubectl apply -k k8s/overlays/", "helm upgrade --install callflow charts/callflow"];
    const positions = order.map((step) => section.indexOf(step));
    expect(positions.every((position) => position >= 0), JSON.stringify(Object.fromEntries(order.map((step, i) => [step, positions[i]])))).toBe(true);
    expect(positions.indexOf(Math.max(...positions))).toBe(order.length - 1);
  });
});
