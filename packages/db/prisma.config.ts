import path from "node:path";
import { defineConfig } from "prisma/config";
import { createMigrationAdapter } from "./src/migration-adapter.ts";

// The schema's datasource reads DATABASE_URL; a local default keeps `prisma generate` working offline.
process.env.DATABASE_URL ??= "postgresql://postgres@127.0.0.1:5432/callflow";

// Prisma's WebAssembly engine runs offline; the adapter carries the connection.
export default defineConfig({
  schema: path.join(import.meta.dirname, "prisma/schema.prisma"),
  migrations: { path: path.join(import.meta.dirname, "prisma/migrations") },
  engine: "js",
  experimental: { adapter: true },
  adapter: async () => createMigrationAdapter(process.env.DATABASE_URL!),
});
