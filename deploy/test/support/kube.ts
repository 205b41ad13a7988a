import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { kubeTools } from "../../scripts/kube-tools.mjs";
import { CHART } from "./paths.ts";

const run = promisify(execFile);

/** A rendered Kubernetes object, as plain data. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Every non-empty document of a multi-document YAML stream. */
export const parseObjects = (text: string): KubeObject[] =>
  parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]!.message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((object): object is KubeObject => object !== null);

export interface HelmOptions {
  valuesFiles?: string[];
  set?: Record<string, string>;
}

const helmArgs = (options: HelmOptions) => [
  ...(options.valuesFiles ?? []).flatMap((file) => ["-f", file]),
  ...Object.entries(options.set ?? {}).flatMap(([key, value]) => ["--set", `${key}=${value}`]),
];

/** `helm template` of the chart; rejects with helm's stderr when it refuses. */
export async function helmTemplate(options: HelmOptions = {}): Promise<KubeObject[]> {
  const { helm } = await kubeTools();
  const { stdout } = await run(helm, ["template", "callflow", CHART, ...helmArgs(options)], { maxBuffer: 64 * 1024 * 1024 });
  return parseObjects(stdout);
}

export async function helmLint(options: HelmOptions = {}): Promise<string> {
  const { helm } = await kubeTools();
  const { stdout } = await run(helm, ["lint", "--strict", CHART, ...helmArgs(options)]);
  return stdout;
}

/** `helm install --dry-run=client`: the whole release as Helm would install it, NOTES.txt included. */
export async function helmDryRunInstall(options: HelmOptions = {}): Promise<string> {
  const { helm } = await kubeTools();
  const { stdout } = await run(helm, ["install", "callflow", CHART, "--dry-run=client", "--namespace", "callflow", ...helmArgs(options)], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Helm's refusal (its stderr), or a failure if it rendered. */
export async function helmRefusal(options: HelmOptions): Promise<string> {
  const { helm } = await kubeTools();
  try {
    await run(helm, ["template", "callflow", CHART, ...helmArgs(options)]);
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  throw new Error("helm rendered the chart with values it should have refused");
}

export async function kustomize(dir: string): Promise<KubeObject[]> {
  const { kubectl } = await kubeTools();
  const { stdout } = await run(kubectl, ["kustomize", dir], { maxBuffer: 64 * 1024 * 1024 });
  return parseObjects(stdout);
}

export const ofKind = <T = KubeObject>(objects: KubeObject[], kind: string): (KubeObject & T)[] =>
  objects.filter((object) => object.kind === kind) as (KubeObject & T)[];

export const named = (objects: KubeObject[], kind: string, name: string): KubeObject => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found;
};
