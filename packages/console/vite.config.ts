import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

/**
 * The console is served by ingest at /console (services/ingest/src/http/console.ts). The recording
 * worker is built beside the page, unhashed and self-contained: a service worker is registered by
 * its URL and its scope is the folder it is served from.
 */
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: {
      input: { page: "index.html", "recording-worker": "src/player/recording-worker.ts" },
      output: { entryFileNames: (chunk) => (chunk.name === "recording-worker" ? "recording-worker.js" : "assets/[name]-[hash].js") },
    },
  },
  // `pnpm --filter @callflow/console dev` against `pnpm callflow up` on its default port.
  server: { proxy: { "/v1": "http://127.0.0.1:8080" } },
});
