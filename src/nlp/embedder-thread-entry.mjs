// Entry of the embedder's worker thread. A worker starts without the loaders of the thread that
// made it, so from TypeScript sources it registers tsx first; from a build it runs the JS.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = new URL("./embedder-thread.js", import.meta.url);
if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("./embedder-thread.ts", import.meta.url).href);
}
