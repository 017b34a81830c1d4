import { ConfigError } from "../config.js";
import { type Role, ROLES } from "../db/types.js";
import { DomainError } from "../domain/domain-error.js";
import { type ReviewerProfile, reviewerProfile } from "../domain/reviewer-profile.js";
import { DEFAULT_TENANT, isTenantName, type TenantScope } from "../domain/tenant-scope.js";

export interface ConfiguredKey {
  role: Role;
  key: string;
  tenants: TenantScope;
  /** `;name=`: the name the key is shown with (default `config-<role>-<hash>`). */
  name?: string;
  /** `;languages=`, `;skills=`, `;capacity=`: the reviewer profile (issue 14). */
  profile?: ReviewerProfile;
}

const OPTIONS = ["name", "languages", "skills", "capacity"] as const;
type OptionName = (typeof OPTIONS)[number];
const NAME = /^[\p{L}\p{N} _.@-]{1,64}$/u;

/**
 * Entries of TRENDGATE_API_KEYS (or the file TRENDGATE_API_KEYS_FILE names), comma- or
 * newline-separated, `#` comments:
 *
 *   role[@tenant+tenant][;name=NAME][;languages=en+de][;skills=a+b][;capacity=N]:key
 *
 * An integrator without `@` belongs to tenant `default`; other roles without `@` see every
 * tenant. Lists inside an entry are joined with `+` (a comma ends the entry). Throws a
 * ConfigError naming the bad entry by its head, never echoing a key.
 */
export function parseConfiguredKeys(
  value: string,
  variable = "TRENDGATE_API_KEYS",
): ConfiguredKey[] {
  return value
    .split(/[,\n]/)
    .map((pair) => pair.trim())
    .filter((pair) => pair && !pair.startsWith("#"))
    .map((pair) => parseEntry(pair, variable));
}

function parseEntry(pair: string, variable: string): ConfiguredKey {
  const index = pair.indexOf(":");
  const head = pair.slice(0, Math.max(index, 0));
  // Only the head is ever echoed: the message must not leak a key.
  const refuse = (why: string) =>
    new ConfigError([{ variable, message: `"${head || "(no role)"}:…" ${why}` }]);
  const [scopePart = "", ...optionParts] = head.split(";");
  const [rolePart = "", tenantPart] = scopePart.split("@");
  const role = rolePart as Role;
  const key = pair.slice(index + 1);
  const tenants = tenantPart === undefined ? undefined : tenantPart.split("+").filter(Boolean);
  const badTenants =
    tenants !== undefined && (tenants.length === 0 || !tenants.every(isTenantName));
  const integratorTenants = role === "integrator" && tenants !== undefined && tenants.length !== 1;
  if (index < 1 || !ROLES.includes(role) || key.length < 8 || badTenants || integratorTenants) {
    throw refuse(
      `must be role[@tenant+tenant][;name=…][;languages=en+de][;skills=a+b][;capacity=N]:key with role one of ${ROLES.join(", ")}, tenants of a-z 0-9 _ - (one for an integrator) and a key of at least 8 characters`,
    );
  }
  const options = parseOptions(optionParts, refuse);
  const entry: ConfiguredKey = {
    role,
    key,
    tenants: tenants ?? (role === "integrator" ? [DEFAULT_TENANT] : null),
  };
  if (options.name !== undefined) {
    if (!NAME.test(options.name)) throw refuse("name: letters, digits, space _ . @ - (at most 64)");
    entry.name = options.name;
  }
  if (
    options.languages !== undefined ||
    options.skills !== undefined ||
    options.capacity !== undefined
  ) {
    try {
      entry.profile = reviewerProfile({
        languages: options.languages,
        skills: options.skills,
        capacity: options.capacity,
      });
    } catch (error) {
      if (error instanceof DomainError) throw refuse(error.message);
      throw error;
    }
  }
  return entry;
}

function parseOptions(
  parts: string[],
  refuse: (why: string) => ConfigError,
): Partial<Record<OptionName, string>> {
  const options: Partial<Record<OptionName, string>> = {};
  for (const part of parts) {
    const eq = part.indexOf("=");
    const name = part.slice(0, Math.max(eq, 0)).trim() as OptionName;
    if (eq < 1 || !OPTIONS.includes(name))
      throw refuse(`unknown option "${part.slice(0, 20)}" (one of ${OPTIONS.join(", ")})`);
    if (options[name] !== undefined) throw refuse(`option ${name} given twice`);
    options[name] = part.slice(eq + 1).trim();
  }
  return options;
}
