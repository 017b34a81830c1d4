// tsc emits only JavaScript; the shipped model weights and data sets travel beside it.
import { cpSync, existsSync } from "node:fs";

for (const dir of ["src/nlp/models", "src/nlp/data"]) {
  if (existsSync(dir)) cpSync(dir, `dist/${dir}`, { recursive: true });
}
