// Builds one service into dist/main.mjs, an ES module plain node runs (no TypeScript loader in
// production). The workspace packages and their dependencies are bundled in; the service's own
// npm dependencies stay external, loaded from its node_modules, since some read files of their
// own at run time (swagger-ui's assets, Prisma's engine).
// Run from a service's folder: `pnpm --filter @callflow/<service> build` (turbo: `pnpm build`).
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import path from "node:path";

const serviceDir = process.cwd();
const manifest = JSON.parse(readFileSync(path.join(serviceDir, "package.json"), "utf8"));
const external = Object.keys(manifest.dependencies ?? {}).filter((name) => !name.startsWith("@callflow/"));
await build({
  entryPoints: [path.join(serviceDir, "src/main.ts")],
  outfile: path.join(serviceDir, "dist/main.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Maps without the sources' text, and no comments or indentation: a process keeps its whole
  // bundle (and, with --enable-source-maps, its map) in memory, and one non-ASCII comment makes
  // V8 store the bundle at two bytes a character.
  sourcemap: true,
  sourcesContent: false,
  minifyWhitespace: true,
  logLevel: "warning",
  external: external.flatMap((name) => [name, `${name}/*`]),
  // CommonJS dependencies (the AWS SDK, pg) call require() for Node built-ins: give the module one.
  banner: { js: 'import { createRequire as __callflowRequire } from "node:module"; const require = __callflowRequire(import.meta.url);' },
});
console.log(`built ${path.relative(process.cwd(), path.join(serviceDir, "dist/main.mjs"))}`);
