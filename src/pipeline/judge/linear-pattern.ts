import { LRUCache } from "lru-cache";
import { RE2 } from "re2-wasm";

/**
 * Policy `blockedPatterns` run on up to 50 k characters of integrator text, written by an
 * operator: a backtracking engine lets one careless pattern (`(a+)+$`) stall the Judge for
 * minutes (ReDoS). RE2 matches in time linear in the text; what it cannot do in linear time
 * (backreferences, lookaround) it refuses, and the policy with it. Case-insensitive, Unicode.
 */
export function compileLinearPattern(pattern: string): { test(text: string): boolean } {
  return new RE2(pattern, "iu");
}

const compiled = new LRUCache<string, { test(text: string): boolean }>({ max: 1000 });

/** Compiled once per pattern per process (policies are reloaded, patterns rarely change). */
export function matchesLinearPattern(pattern: string, text: string): boolean {
  let regex = compiled.get(pattern);
  if (!regex) {
    regex = compileLinearPattern(pattern);
    compiled.set(pattern, regex);
  }
  return regex.test(text);
}
