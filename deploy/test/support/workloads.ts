import { named, ofKind, type KubeObject } from "./kube.ts";

export interface Container {
  name: string;
  image: string;
  command?: string[];
  workingDir?: string;
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string } }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[];
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  terminationGracePeriodSeconds?: number;
  volumes?: { name: string; emptyDir?: object }[];
  serviceAccountName?: string;
}

export interface Workload extends KubeObject {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } };
}

export const deployments = (objects: KubeObject[]) => ofKind<Workload>(objects, "Deployment");

/** The component label: which Callflow service an object belongs to. */
export const componentOf = (object: KubeObject): string => object.metadata.labels?.["app.kubernetes.io/component"] ?? "";

export const deploymentOf = (objects: KubeObject[], service: string): Workload => {
  const found = deployments(objects).find((deployment) => componentOf(deployment) === service);
  if (!found) throw new Error(`no Deployment for ${service}`);
  return found;
};

// A value a Secret would hold, in the shape its variable's schema accepts.
const placeholderFor = (variable: string): string =>
  variable.endsWith("_ACCOUNT_SID") ? `AC${"0".repeat(32)}` : variable.endsWith("_URL") ? "postgresql://callflow@postgres.example.test:5432/callflow" : "placeholder-from-secret";

/**
 * The environment a container would see: its ConfigMaps' data, then its own variables, with each
 * secretKeyRef given a placeholder of the right shape (Secrets are never in the chart).
 */
export function containerEnv(objects: KubeObject[], container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, (named(objects, "ConfigMap", source.configMapRef.name) as KubeObject & { data: Record<string, string> }).data);
  }
  for (const variable of container.env ?? []) {
    env[variable.name] = variable.value ?? placeholderFor(variable.name);
  }
  return env;
}

/** A probe's port as a number, resolving a named port through the container's ports. */
export function probePort(container: Container, port: number | string | undefined): number | undefined {
  if (typeof port === "number") return port;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}
