import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { type Config, ConfigError } from "../config.js";
import { type AuthService, parseConfiguredKeys } from "./auth-service.js";

/**
 * Keys from configuration: TRENDGATE_API_KEYS plus the file TRENDGATE_API_KEYS_FILE names (same
 * syntax, one pair per line or comma-separated, `#` comments). The environment of a running
 * process cannot change, so the file is how configured keys are added or removed live: edit it
 * and send SIGHUP.
 */
export async function readConfiguredKeys(config: Config): Promise<string> {
  if (!config.TRENDGATE_API_KEYS_FILE) return config.TRENDGATE_API_KEYS;
  let text: string;
  try {
    text = await readFile(config.TRENDGATE_API_KEYS_FILE, "utf8");
  } catch (error) {
    throw new ConfigError([
      {
        variable: "TRENDGATE_API_KEYS_FILE",
        message: `cannot read ${config.TRENDGATE_API_KEYS_FILE}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
      },
    ]);
  }
  parseConfiguredKeys(text, "TRENDGATE_API_KEYS_FILE");
  return [config.TRENDGATE_API_KEYS, text].filter(Boolean).join("\n");
}

/** SIGHUP: re-reads the configured keys; a key no longer listed stops working (its sockets close within a second). */
export async function reloadConfiguredKeys(auth: AuthService, config: Config): Promise<number> {
  const keys = parseConfiguredKeys(await readConfiguredKeys(config));
  auth.setConfiguredKeys(keys);
  return keys.length;
}

/**
 * Writes the bootstrap keys once, to a new file readable by its owner only (0600), and returns
 * its path; never to stdout, where container logs would keep them. Refuses to overwrite.
 */
export async function writeBootstrapKeys(
  file: string,
  keys: { role: string; key: string }[],
): Promise<string> {
  const absolute = path.resolve(file);
  await mkdir(path.dirname(absolute), { recursive: true });
  const lines = [
    "# Trendgate API keys created on a fresh database; stored hashed, shown nowhere else.",
    '# Send one as `Authorization: Bearer <key>` (HTTP) or { authorization: "Bearer <key>" } in connection_init.',
    ...keys.map((k) => `${k.role}\t${k.key}`),
    "",
  ];
  await writeFile(absolute, lines.join("\n"), { mode: 0o600, flag: "wx" });
  return absolute;
}
