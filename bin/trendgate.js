#!/usr/bin/env node
// Runs the CLI from the TypeScript sources through tsx's loader, so a checkout works without a
// build step; `npm run build` type-checks and emits dist/ for those who prefer plain node.
import { register } from "tsx/esm/api";

register();
const { buildCli, reportFatal } = await import("../src/cli.ts");
buildCli().parseAsync(process.argv).catch(reportFatal);
