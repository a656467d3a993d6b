/**
 * `npm run bench`: our models and the same architectures in PyTorch, side by side on this machine.
 *
 *   node dist-bench/bench.js [--cases a,b] [--runs N] [--json]
 *
 * Cases ending in _onnx run our network through the ONNX backend (src/onnx), the rest in jax-js.
 * Each case runs in a fresh process per side (so peak RSS is that case's own), after warm-up
 * (which includes our jit compile), and reports the median of the timed runs. The peer is
 * Debian's PyTorch, run with /usr/bin/python3; nothing is installed here. Parameter counts of the
 * two sides must agree, or the comparison is refused.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const PYTHON = "/usr/bin/python3";
const INSTALL_HINT = "sudo apt-get install python3-torch libopenblas0-pthread   (Debian; then /usr/bin/python3 has torch)";

/** case → [timed runs, warm-up runs] */
const CASES: Record<string, [number, number]> = {
  mlp_step: [20, 3],
  mlp_step_onnx: [20, 3],
  unet_step_b32: [5, 2],
  unet_step_b32_onnx: [5, 2],
  unet_step_b64: [5, 2],
  unet_step_b64_onnx: [5, 2],
  unet_forward_b64: [5, 2],
  unet_forward_b64_onnx: [5, 2],
  sample_2d: [3, 1],
  sample_2d_onnx: [3, 1],
};

interface Result {
  ms: number;
  times: number[];
  params: number;
  peak_rss_mb: number;
  threads: number;
}

function runJson(command: string, args: string[]): Result | string {
  const r = spawnSync(command, args, { cwd: root, encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.error) return r.error.message;
  if (r.status !== 0) return `exit ${r.status}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`;
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as Result;
  } catch {
    return `unreadable output: ${r.stdout.slice(-200)}`;
  }
}

function parseArgs(argv: string[]) {
  const o = { cases: Object.keys(CASES), runs: 0, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") o.json = true;
    else if (a === "--cases") o.cases = (argv[++i] ?? "").split(",").filter(Boolean);
    else if (a === "--runs") o.runs = Number(argv[++i]);
    else throw new Error(`unknown argument "${a}" (use --cases a,b --runs N --json)`);
  }
  for (const c of o.cases) if (!(c in CASES)) throw new Error(`unknown case "${c}" (known: ${Object.keys(CASES).join(", ")})`);
  if (!(Number.isInteger(o.runs) && o.runs >= 0)) throw new Error("--runs must be a whole number");
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const peer = spawnSync(PYTHON, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
const torchVersion = peer.status === 0 ? peer.stdout.trim() : null;
if (!torchVersion) console.error(`PyTorch peer not found (${PYTHON} cannot import torch); timing ours only.\nInstall it with: ${INSTALL_HINT}`);

const table: Record<string, { ours_ms: number | null; torch_ms: number | null; ratio: number | null; peak_rss_mb: number | null; torch_peak_rss_mb: number | null; params: number | null }> = {};
for (const name of opts.cases) {
  const [runs, warmup] = CASES[name]!;
  const n = String(opts.runs || runs);
  if (!opts.json) console.error(`${name}: ours…`);
  const ours = runJson(process.execPath, [join(root, "dist-bench", "cases.js"), name, n, String(warmup)]);
  if (!opts.json && torchVersion) console.error(`${name}: torch…`);
  // a case "X_onnx" is case X with our network run by ONNX Runtime; the peer runs X
  const theirs = torchVersion ? runJson(PYTHON, [join(root, "bench", "peer.py"), name.replace(/_onnx$/, ""), n, String(warmup)]) : null;
  if (typeof ours === "string") throw new Error(`${name} (ours) failed: ${ours}`);
  if (typeof theirs === "string") throw new Error(`${name} (torch) failed: ${theirs}`);
  if (theirs && theirs.params !== ours.params) throw new Error(`${name}: parameter counts differ (ours ${ours.params}, torch ${theirs.params}); not the same model`);
  table[name] = {
    ours_ms: ours.ms,
    torch_ms: theirs?.ms ?? null,
    ratio: theirs ? ours.ms / theirs.ms : null,
    peak_rss_mb: ours.peak_rss_mb,
    torch_peak_rss_mb: theirs?.peak_rss_mb ?? null,
    params: ours.params,
  };
  if (!opts.json) {
    const t = table[name]!;
    console.error(`${name}: ours ${t.ours_ms!.toFixed(1)} ms, torch ${t.torch_ms?.toFixed(1) ?? "—"} ms (threads: ours ${ours.threads}, torch ${theirs?.threads ?? "—"})`);
  }
}

if (opts.json) {
  console.log(JSON.stringify(table, null, 2));
} else {
  const fmt = (v: number | null, d = 1) => (v === null ? "—" : v.toFixed(d));
  const rows = [["case", "params", "ours ms", "torch ms", "ours/torch", "ours MB", "torch MB", "MB ratio"]];
  for (const [name, t] of Object.entries(table)) {
    rows.push([name, String(t.params), fmt(t.ours_ms), fmt(t.torch_ms), fmt(t.ratio, 2), fmt(t.peak_rss_mb, 0), fmt(t.torch_peak_rss_mb, 0), t.torch_peak_rss_mb ? fmt(t.peak_rss_mb! / t.torch_peak_rss_mb, 2) : "—"]);
  }
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  for (const r of rows) console.log(r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  "));
  console.log(`torch ${torchVersion ?? "absent"}; medians after warm-up; peak RSS per process (MB)`);
}
