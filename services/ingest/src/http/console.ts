import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";
import fastifyStatic from "@fastify/static";

/** The console's built assets in the workspace: `pnpm build` writes them to packages/console/dist. */
export const defaultConsoleDirectory = (): string => path.join(path.dirname(fileURLToPath(import.meta.resolve("@callflow/console/package.json"))), "dist");

const listFiles = async (directory: string): Promise<Set<string>> => {
  try {
    const entries = await readdir(directory, { recursive: true, withFileTypes: true });
    return new Set(entries.filter((entry) => entry.isFile()).map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)).split(path.sep).join("/")));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Set();
    throw error;
  }
};

// The page holds an API key in session storage: it runs only its own scripts, and no other site frames it.
const PAGE_HEADERS = {
  "cache-control": "no-cache",
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

/**
 * The operator console at /console: the static single-page app, every path under it answered with its
 * page unless it names one of the built files. Public like /docs; the page asks for an API key and
 * talks to the API with it. Without built assets, /console says how to build them.
 */
export const registerConsole = async (app: FastifyInstance, options: { directory: string }): Promise<void> => {
  const files = await listFiles(options.directory);
  const route = { config: { public: true }, schema: { hide: true } } as const;
  app.get("/console", route, async (_request, reply) => reply.redirect("/console/", 308));

  if (!files.has("index.html")) {
    app.get("/console/*", route, async (_request, reply) =>
      reply.code(503).type("text/plain; charset=utf-8").send(`The console is not built: run \`pnpm build\` (or point CALLFLOW_INGEST_CONSOLE_DIR at its assets; looked in ${options.directory}).\n`),
    );
    return;
  }

  await app.register(async (scope) => {
    await scope.register(fastifyStatic, { root: options.directory, serve: false });
    const page = (reply: FastifyReply) => reply.headers(PAGE_HEADERS).sendFile("index.html", { cacheControl: false });
    scope.get<{ Params: { "*": string } }>("/console/*", route, async (request, reply) => {
      const file = request.params["*"];
      if (!files.has(file) || file === "index.html") return page(reply);
      // Vite names what it builds under assets/ by content hash: a new build is a new name.
      const cacheControl = file.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache";
      return reply.header("cache-control", cacheControl).header("x-content-type-options", "nosniff").sendFile(file, { cacheControl: false });
    });
  });
};
