/**
 * The top self-time functions of a V8 CPU profile, and the same grouped by file or package:
 * where a benchmark's main thread spends its time, without a profiler UI.
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/pipeline/ingest-to-enriched.ts --only noop
 *   npx tsx bench/tools/cpu-profile-top.ts /tmp/prof/CPU.*.cpuprofile [--top 30]
 *
 * A process with worker threads writes one profile per thread; pass the one to read (the
 * largest file is usually the main thread). Times are sampled wall time on the thread, so a
 * system call preempted on a busy machine counts in full: compare profiles taken under
 * similar load.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "30" } },
});
const file = positionals[0];
if (!file) {
  process.stderr.write("usage: cpu-profile-top.ts <file.cpuprofile> [--top N]\n");
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

const selfUs = new Map<number, number>();
let totalUs = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  totalUs += dt;
});

const shortUrl = (url: string) =>
  url.replace(/.*node_modules\//, "").replace(/^file:\/\/.*?\/(src|bench|test)\//, "$1/");
const packageOf = ({ callFrame: { url, functionName } }: ProfileNode) => {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/((?:src|bench|test)\/.*)$/.exec(url);
  // No URL: V8's own entries ((idle), (garbage collector), (program)) and native functions.
  return own ? own[1]! : url || (functionName.startsWith("(") ? functionName : "(native)");
};

function tally(key: (n: ProfileNode) => string): [string, number][] {
  const out = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const k = key(byId.get(id)!);
    out.set(k, (out.get(k) ?? 0) + us);
  }
  return [...out].sort((a, b) => b[1] - a[1]).slice(0, top);
}

const print = (title: string, rows: [string, number][]) => {
  console.log(`\n${title}`);
  console.log(`${"ms".padStart(8)} ${"share".padStart(6)}  where`);
  for (const [k, us] of rows)
    console.log(
      `${(us / 1000).toFixed(0).padStart(8)} ${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${k}`,
    );
};

console.log(`${file}: ${(totalUs / 1000).toFixed(0)} ms sampled`);
print(
  "self time by function",
  tally(
    (n) =>
      `${n.callFrame.functionName || "(anonymous)"} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`,
  ),
);
print("self time by file or package", tally(packageOf));
