// Entry of an enrichment pool thread (piscina). A worker starts without the loaders of the
// thread that made it, so from TypeScript sources it registers tsx first; from a build it runs
// the JS. The default export is the pool's task.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = new URL("./enricher-thread.js", import.meta.url);
let mod;
if (existsSync(fileURLToPath(compiled))) {
  mod = await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  mod = await import(new URL("./enricher-thread.ts", import.meta.url).href);
}
export default mod.enrichTask;
