import { fileURLToPath } from "node:url";

import { defineConfig } from "vite";

// The gateway serves web/dist at /console (src/http/console-route.ts), so every asset URL is
// relative to that base. Preact's JSX runtime through Vite's own transform keeps the toolchain
// to Vite alone (no Babel preset).
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/console/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 600,
  },
});
