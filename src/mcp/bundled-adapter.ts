import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { PublishError } from "./publish-error.js";

/**
 * How to spawn the bundled adapter from this checkout: node on the compiled
 * `publish-adapter-main.js` beside this file when running from dist/, otherwise node with tsx's
 * loader on the TypeScript source. Paths are absolute, so the caller's cwd does not matter (a
 * bare `--import tsx` would be resolved from the cwd).
 */
export function bundledAdapterCommand(): { command: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const dir = dirname(here);
  const compiled = join(dir, "publish-adapter-main.js");
  if (here.endsWith(".js") && existsSync(compiled)) {
    return { command: process.execPath, args: [compiled] };
  }
  const source = join(dir, "publish-adapter-main.ts");
  if (existsSync(source)) {
    return { command: process.execPath, args: ["--import", tsxLoaderUrl(), source] };
  }
  // Bundled elsewhere (e.g. this module was inlined): look for the repo from here upwards.
  for (let root = dir; root !== dirname(root); root = dirname(root)) {
    const built = join(root, "dist", "src", "mcp", "publish-adapter-main.js");
    if (existsSync(built)) return { command: process.execPath, args: [built] };
    const src = join(root, "src", "mcp", "publish-adapter-main.ts");
    if (existsSync(src))
      return { command: process.execPath, args: ["--import", tsxLoaderUrl(), src] };
  }
  throw new PublishError(
    "PUBLISH_ADAPTER_UNAVAILABLE",
    `bundled publish adapter not found near ${dir}`,
    false,
  );
}

function tsxLoaderUrl(): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  } catch (err) {
    throw new PublishError(
      "PUBLISH_ADAPTER_UNAVAILABLE",
      "running the adapter from source needs tsx (a dependency of trendgate); reinstall the dependencies or build with `npm run build`",
      false,
      {},
      { cause: err },
    );
  }
}
