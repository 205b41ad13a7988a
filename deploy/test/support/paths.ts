import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const CHART = `${ROOT}charts/callflow`;
export const K8S = `${ROOT}k8s`;
