/**
 * `npm run bench`: our models against the same architectures in PyTorch and in JAX, on this machine.
 *
 *   node dist-bench/bench.js [--cases a,b] [--threads 1,2] [--runs N] [--soak-steps N]
 *                            [--backend auto|onnx|jax] [--spin auto|on|off] [--busy]
 *                            [--peers torch,jax] [--smoke] [--json]
 *
 * A case is BASE_tN (BASE in cases.ts's `BASES`): every side at N threads (our jax-js engine and
 * ONNX Runtime sessions, torch.set_num_threads, XLA's thread pools), each side's process pinned
 * to N cores with taskset where the machine has them. `--cases` takes bases (run at each of
 * `--threads`, default 1,2; soak cases at the first only) or full names. Each side runs each case
 * in a fresh process (so peak RSS is that case's own), after warm-up (which includes every side's
 * compile), and reports the median of the timed runs. Our side runs the backend `--backend`
 * chooses (default auto: ONNX Runtime when onnxruntime-node loads). Peers: "torch" is PyTorch in
 * bench/.venv (`npm run bench:setup`) or else Debian's /usr/bin/python3 with python3-torch; "jax"
 * is JAX in bench/.venv. Parameter counts of every side must agree, or the comparison is refused.
 * `--spin` sets whether our ONNX Runtime pool threads spin (default auto, the library's default).
 * `--busy` runs every side of every case beside a process burning one core (a busy machine).
 * `--smoke` runs each case once (soaks for a few steps), to check that everything runs.
 *
 * `--json` prints {CASE: {ours_ms, peers: {NAME: ms}, fastest_peer, ratio (ours / fastest),
 * peak_rss_mb, peer_rss_mb: {NAME: MB}}}, soak cases adding rss_slope_mb_per_1k_steps
 * {ours, NAME…} (resident memory's least-squares slope after the first quarter of the steps).
 * VDM_BENCH_DIST (a folder under the repository root) replaces dist/ as the library our side loads.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BASES, type Base } from "./cases.js";
import { cores, pinned, root, VENV_PYTHON } from "./sides.js";

const here = dirname(fileURLToPath(import.meta.url));
const DEBIAN_PYTHON = "/usr/bin/python3";

/** base → [timed runs, warm-up runs]; a soak's runs are its steps */
const RUNS: Record<Base, [number, number]> = {
  mlp_step_b256: [50, 5],
  mlp_step_b1024: [20, 3],
  unet_step_b32: [7, 2],
  unet_step_b64: [5, 2],
  unet_forward_b64: [7, 2],
  sample_2d_n1024: [3, 1],
  sample_fmnist_n64: [3, 1],
  soak_2d_b256: [20000, 0],
  soak_unet_b32: [2000, 0],
};
const SMOKE_SOAK_STEPS: Partial<Record<Base, number>> = { soak_2d_b256: 200, soak_unet_b32: 8 };

interface SideResult {
  ms: number;
  times: number[];
  params: number;
  peak_rss_mb: number;
  threads: number;
  version?: string;
  backend?: string;
  rss_slope_mb_per_1k_steps?: number;
}

interface Row {
  ours_ms: number;
  peers: Record<string, number>;
  fastest_peer: string | null;
  ratio: number | null;
  peak_rss_mb: number;
  peer_rss_mb: Record<string, number>;
  rss_slope_mb_per_1k_steps?: Record<string, number>;
}

interface Peer {
  name: string;
  python: string;
  script: string;
}

const isSoak = (base: string) => base.startsWith("soak");

function parseArgs(argv: string[]) {
  const o = {
    cases: [] as string[],
    threads: [1, 2],
    runs: 0,
    soakSteps: 0,
    json: false,
    smoke: false,
    backend: "auto",
    spin: "auto",
    busy: false,
    peers: ["torch", "jax"],
  };
  const list = (v: string | undefined) => (v ?? "").split(",").filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") o.json = true;
    else if (a === "--smoke") o.smoke = true;
    else if (a === "--busy") o.busy = true;
    else if (a === "--spin") o.spin = argv[++i] ?? "";
    else if (a === "--cases") o.cases = list(argv[++i]);
    else if (a === "--threads") o.threads = list(argv[++i]).map(Number);
    else if (a === "--runs") o.runs = Number(argv[++i]);
    else if (a === "--soak-steps") o.soakSteps = Number(argv[++i]);
    else if (a === "--backend") o.backend = argv[++i] ?? "";
    else if (a === "--peers") o.peers = list(argv[++i]);
    else
      throw new Error(
        `unknown argument "${a}" (use --cases a,b --threads 1,2 --runs N --soak-steps N --backend auto|onnx|jax --spin auto|on|off --busy --peers torch,jax --smoke --json)`,
      );
  }
  if (!o.threads.length || !o.threads.every((t) => Number.isInteger(t) && t >= 1))
    throw new Error("--threads must list positive whole numbers");
  if (!(Number.isInteger(o.runs) && o.runs >= 0)) throw new Error("--runs must be a whole number");
  if (!(Number.isInteger(o.soakSteps) && o.soakSteps >= 0)) throw new Error("--soak-steps must be a whole number");
  if (!["auto", "onnx", "jax"].includes(o.backend)) throw new Error(`--backend must be auto, onnx or jax, got "${o.backend}"`);
  if (!["auto", "on", "off"].includes(o.spin)) throw new Error(`--spin must be auto, on or off, got "${o.spin}"`);
  for (const p of o.peers) if (p !== "torch" && p !== "jax") throw new Error(`unknown peer "${p}" (known: torch, jax)`);
  const names: string[] = [];
  const bases = o.cases.length ? o.cases : Object.keys(BASES);
  for (const c of bases) {
    const full = /^(.+)_t(\d+)$/.exec(c);
    if (full && full[1]! in BASES) names.push(c);
    else if (c in BASES) for (const t of isSoak(c) && !o.cases.length ? o.threads.slice(0, 1) : o.threads) names.push(`${c}_t${t}`);
    else throw new Error(`unknown case "${c}" (known: ${Object.keys(BASES).join(", ")}, each optionally with _tN)`);
  }
  return { ...o, names };
}

const imports = (python: string, module: string) =>
  existsSync(python) && spawnSync(python, ["-c", `import ${module}`], { encoding: "utf8" }).status === 0;

/** The peers found here, by name. */
function findPeers(wanted: string[]): { peers: Peer[]; missing: string[] } {
  const peers: Peer[] = [];
  const missing: string[] = [];
  if (wanted.includes("torch")) {
    const python = [VENV_PYTHON, DEBIAN_PYTHON].find((p) => imports(p, "torch"));
    if (python) peers.push({ name: "torch", python, script: join(root, "bench", "peer.py") });
    else missing.push("torch: neither bench/.venv (npm run bench:setup) nor /usr/bin/python3 (apt-get install python3-torch) has PyTorch");
  }
  if (wanted.includes("jax")) {
    if (imports(VENV_PYTHON, "jax")) peers.push({ name: "jax", python: VENV_PYTHON, script: join(root, "bench", "peer_jax.py") });
    else missing.push("jax: bench/.venv has no JAX (npm run bench:setup)");
  }
  return { peers, missing };
}

function runJson(threads: number, command: string, args: string[]): SideResult | string {
  const [cmd, argv] = pinned(threads, command, args);
  const env = { ...process.env, VDM_BENCH_SPIN: opts.spin };
  const r = spawnSync(cmd, argv, { cwd: root, encoding: "utf8", maxBuffer: 1 << 26, env });
  if (r.error) return r.error.message;
  if (r.status !== 0) return `exit ${r.status}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`;
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as SideResult;
  } catch {
    return `unreadable output: ${r.stdout.slice(-300)}`;
  }
}

const opts = parseArgs(process.argv.slice(2));
const { peers, missing } = findPeers(opts.peers);
for (const m of missing) console.error(`peer missing — ${m}`);
if (opts.threads.some((t) => t > cores)) console.error(`note: this machine has ${cores} cores; cases with more threads run unpinned`);

// --busy: another process burning one core for the whole run (unpinned: the kernel places it). It
// stops with this run: killed on exit, and by itself once its parent is gone (a run killed by a signal)
const BURN =
  "const parent = process.ppid; for (;;) { for (let i = 0; i < 1e8; i++); try { process.kill(parent, 0); } catch { process.exit(); } }";
const burner = opts.busy ? spawn(process.execPath, ["-e", BURN], { stdio: "ignore" }) : null;
burner?.unref(); // the run ends when the cases do
process.on("exit", () => burner?.kill());

const table: Record<string, Row> = {};
const versions: Record<string, string> = {};
let backend = "";
for (const name of opts.names) {
  const [, base, t] = /^(.+)_t(\d+)$/.exec(name)! as unknown as [string, Base, string];
  const threads = Number(t);
  const [defaultRuns, defaultWarmup] = RUNS[base];
  const runs = isSoak(base)
    ? opts.soakSteps || (opts.smoke ? SMOKE_SOAK_STEPS[base]! : defaultRuns)
    : opts.runs || (opts.smoke ? 1 : defaultRuns);
  const warmup = isSoak(base) ? 0 : opts.smoke ? Math.min(1, defaultWarmup) : defaultWarmup;
  const log = (s: string) => console.error(s);
  log(`${name}: ours…`);
  const ours = runJson(threads, process.execPath, [join(here, "cases.js"), name, String(runs), String(warmup), opts.backend]);
  if (typeof ours === "string") throw new Error(`${name} (ours) failed: ${ours}`);
  backend = ours.backend ?? backend;
  const row: Row = { ours_ms: ours.ms, peers: {}, fastest_peer: null, ratio: null, peak_rss_mb: ours.peak_rss_mb, peer_rss_mb: {} };
  if (isSoak(base)) row.rss_slope_mb_per_1k_steps = { ours: ours.rss_slope_mb_per_1k_steps ?? 0 };
  for (const peer of peers) {
    log(`${name}: ${peer.name}…`);
    const theirs = runJson(threads, peer.python, [peer.script, name, String(runs), String(warmup)]);
    if (typeof theirs === "string") {
      console.error(`${name} (${peer.name}) failed: ${theirs}`);
      continue;
    }
    if (theirs.params !== ours.params)
      throw new Error(`${name}: parameter counts differ (ours ${ours.params}, ${peer.name} ${theirs.params}); not the same model`);
    versions[peer.name] = theirs.version ?? peer.name;
    row.peers[peer.name] = theirs.ms;
    row.peer_rss_mb[peer.name] = theirs.peak_rss_mb;
    if (row.rss_slope_mb_per_1k_steps) row.rss_slope_mb_per_1k_steps[peer.name] = theirs.rss_slope_mb_per_1k_steps ?? 0;
  }
  const fastest = Object.entries(row.peers).sort((a, b) => a[1] - b[1])[0];
  if (fastest) [row.fastest_peer, row.ratio] = [fastest[0], ours.ms / fastest[1]];
  table[name] = row;
  log(
    `${name}: ours ${ours.ms.toFixed(1)} ms (${ours.backend})${Object.entries(row.peers)
      .map(([p, ms]) => `, ${p} ${ms.toFixed(1)} ms`)
      .join("")}`,
  );
}

if (opts.json) {
  console.log(JSON.stringify(table, null, 2));
} else {
  const names = peers.map((p) => p.name);
  const fmt = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? "—" : v.toFixed(d));
  const rows = [
    [
      "case",
      "ours ms",
      ...names.map((n) => `${n} ms`),
      "fastest",
      "ours/fastest",
      "ours MB",
      ...names.map((n) => `${n} MB`),
      "MB/1k steps (ours, peers)",
    ],
  ];
  for (const [name, r] of Object.entries(table)) {
    const slope = r.rss_slope_mb_per_1k_steps
      ? Object.values(r.rss_slope_mb_per_1k_steps)
          .map((v) => v.toFixed(2))
          .join(", ")
      : "";
    rows.push([
      name,
      fmt(r.ours_ms),
      ...names.map((n) => fmt(r.peers[n])),
      r.fastest_peer ?? "—",
      fmt(r.ratio, 2),
      fmt(r.peak_rss_mb, 0),
      ...names.map((n) => fmt(r.peer_rss_mb[n], 0)),
      slope,
    ]);
  }
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  for (const r of rows) console.log(r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  "));
  console.log(
    `ours: ${backend}, spin ${opts.spin}${opts.busy ? "; beside a process burning one core" : ""}; ${Object.values(versions).join(", ") || "no peers"}; ${cores} cores; medians after warm-up; peak RSS per process (MB)`,
  );
}
