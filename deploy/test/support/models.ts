import type { KubeObject } from "./kube.ts";

interface Model {
  validate(): void;
}
type ModelClass = new (data: object) => Model;
type ModelModule = Record<string, unknown>;

// The models of every API group the chart and the overlays render; a group missing here has none.
const groups: Record<string, () => Promise<ModelModule>> = {
  v1: () => import("kubernetes-models/v1"),
  "apps/v1": () => import("kubernetes-models/apps/v1"),
  "batch/v1": () => import("kubernetes-models/batch/v1"),
  "policy/v1": () => import("kubernetes-models/policy/v1"),
  "autoscaling/v2": () => import("kubernetes-models/autoscaling/v2"),
  "networking.k8s.io/v1": () => import("kubernetes-models/networking.k8s.io/v1"),
  "keda.sh/v1alpha1": () => import("@kubernetes-models/keda/keda.sh/v1alpha1"),
  "monitoring.coreos.com/v1": () => import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1"),
};

/** The model class for an object's apiVersion and kind, or undefined where no model package has one. */
export async function modelFor(object: Pick<KubeObject, "apiVersion" | "kind">): Promise<ModelClass | undefined> {
  const load = groups[object.apiVersion];
  if (!load) return undefined;
  const candidate = (await load())[object.kind];
  return typeof candidate === "function" ? (candidate as ModelClass) : undefined;
}

/** Validates against the Kubernetes schema; the error names the object and the failing field. */
export async function validateObject(object: KubeObject): Promise<"validated" | "no model"> {
  const Model = await modelFor(object);
  if (!Model) return "no model";
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
  }
  return "validated";
}
