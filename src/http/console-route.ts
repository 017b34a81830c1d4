import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

import express, { type Express } from "express";

// From src/http (tsx) the repo root is two levels up; from dist/src/http (built) it is three.
const CONSOLE_DIR =
  [new URL("../../web/dist", import.meta.url), new URL("../../../web/dist", import.meta.url)]
    .map((u) => fileURLToPath(u))
    .find((dir) => existsSync(dir)) ?? fileURLToPath(new URL("../../web/dist", import.meta.url));

/** Serves the built moderator console at /console (built by `npm run build`). */
export function mountConsole(app: Express): void {
  app.use("/console", (req, res, next) => {
    if (!existsSync(CONSOLE_DIR)) {
      res.status(404).type("text/plain").send("The console is not built yet: run `npm run build`.");
      return;
    }
    next();
  });
  app.use("/console", express.static(CONSOLE_DIR, { index: "index.html", fallthrough: true }));
  app.get("/", (_req, res) => res.redirect("/console/"));
}
